-- logtally schema, version 4: what behaviour-based bot detection needs, still without addresses.

-- The client's address and its network (/24 for IPv4, /48 for IPv6) as 32-bit keyed hashes under
-- the day's salt, packed as (network << 32) | address: rollup can see many agents from one address
-- or network, or one agent spread over many, and nothing can be linked once the salt is deleted.
ALTER TABLE events ADD COLUMN origin INTEGER;
-- What the address and request said at ingest (bits): 1 the address is in a datacenter network,
-- 2 the request was HTTP/1.0, 4 it was HTTP/1.0 or 1.1, 8 the agent is an obsolete browser's.
ALTER TABLE events ADD COLUMN traits INTEGER NOT NULL DEFAULT 0;

-- The automated client an agent names (GPTBot, Googlebot, curl...), for `stats bots`.
ALTER TABLE agents ADD COLUMN crawler TEXT;

CREATE TABLE daily_crawlers (
    day TEXT NOT NULL, site TEXT NOT NULL, name TEXT NOT NULL,
    hits INTEGER NOT NULL, visitors INTEGER NOT NULL,
    PRIMARY KEY (site, day, name)
) WITHOUT ROWID;

-- What each site's browsers fetched, per local day (days since 1970-01-01 in the database's zone),
-- counted at ingest from hits no layer-1/2 rule flagged: subresource requests with a referrer,
-- how many of them over HTTP/1.x, and the hosts they name as referrer. Rollup reads a window of
-- days around the one it decides, so a small site with a visitor or two a day still tells whether
-- it serves subresources, whether its browsers speak HTTP/2, and which host is its own.
CREATE TABLE site_days (
    site                  INTEGER NOT NULL,  -- sites.id
    day                   INTEGER NOT NULL,
    referred_assets       INTEGER NOT NULL,
    referred_assets_http1 INTEGER NOT NULL,
    PRIMARY KEY (site, day)
) WITHOUT ROWID;

CREATE TABLE site_day_hosts (
    site  INTEGER NOT NULL,
    day   INTEGER NOT NULL,
    host  TEXT NOT NULL,                     -- referrer host of subresource requests
    hits  INTEGER NOT NULL,
    PRIMARY KEY (site, day, host)
) WITHOUT ROWID;

-- The pages those subresource requests name as referrer, with the referrer's host, as keys
-- (`classify::referrer::page_key`, a hash of the page's stored path): a page of the site's own
-- host that loads subresources, viewed without them, is a sign of a script; a page that has none
-- says nothing. Rollup reads only the pages of the site's own host. `cleanup` deletes all three
-- tables' rows of days whose raw events are gone, once no window needs them.
CREATE TABLE site_day_pages (
    site  INTEGER NOT NULL,
    day   INTEGER NOT NULL,
    host  TEXT NOT NULL,
    page  INTEGER NOT NULL,
    hits  INTEGER NOT NULL,
    PRIMARY KEY (site, day, host, page)
) WITHOUT ROWID;
