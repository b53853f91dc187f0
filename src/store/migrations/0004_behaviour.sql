-- logtally schema, version 4: what behaviour-based bot detection needs, still without addresses.

-- The client's address and its network (/24 for IPv4, /48 for IPv6) as 32-bit keyed hashes under
-- the day's salt, packed as (network << 32) | address: rollup can see many agents from one address
-- or network, or one agent spread over many, and nothing can be linked once the salt is deleted.
ALTER TABLE events ADD COLUMN origin INTEGER;
-- What the address and request said at ingest (bits): 1 the address is in a datacenter network,
-- 2 the request was HTTP/1.0, 4 it was HTTP/1.0 or 1.1.
ALTER TABLE events ADD COLUMN traits INTEGER NOT NULL DEFAULT 0;

-- The automated client an agent names (GPTBot, Googlebot, curl...), for `stats bots`.
ALTER TABLE agents ADD COLUMN crawler TEXT;

CREATE TABLE daily_crawlers (
    day TEXT NOT NULL, site TEXT NOT NULL, name TEXT NOT NULL,
    hits INTEGER NOT NULL, visitors INTEGER NOT NULL,
    PRIMARY KEY (site, day, name)
) WITHOUT ROWID;
