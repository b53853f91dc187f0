# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_logtally_global_optspecs
    string join \n config= h/help V/version
end

function __fish_logtally_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_logtally_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_logtally_using_subcommand
    set -l cmd (__fish_logtally_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c logtally -n "__fish_logtally_needs_command" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_needs_command" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_needs_command" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "check" -d 'Parse log files and report formats, rejects and time range, writing nothing'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "tail" -d 'Follow access logs as they are written (run it under systemd), exactly once across rotation, crashes and restarts'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "import" -d 'Load historical or rotated logs (plain, .gz or stdin) into the database, exactly once'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "rollup" -d 'Compute daily rollups (visitors, page views, sources...) from raw events; run from cron'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "cleanup" -d 'Delete raw events past retention, never a day that is not rolled up; run from cron'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "stats" -d 'Show visitors, page views, sources, pages, browsers... from the rollups'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "live" -d 'Show who is on the site now, from the running tail\'s memory'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "serve" -d 'Serve the dashboard over HTTP, read-only (put it behind nginx)'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "import-history" -d 'Import the history of Plausible (an export) beside the logs; list and remove imports'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "migrate" -d 'Copy the database\'s history (rollups and record) into a ClickHouse store, once'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "config" -d 'Check the configuration file and show the settings in effect, or print an example'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "generate" -d 'Write man pages and shell completions from this command line\'s definition'
complete -c logtally -n "__fish_logtally_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand check" -s f -l format -d 'Log format of the input' -r -f -a "auto\t'Detect from the first lines'
combined\t'nginx/Apache combined (also reads common lines)'
common\t'NCSA/Apache common log format'
vcombined\t'combined with the virtual host first (%v:%p / $host)'
caddy\t'Caddy v2 JSON access log'"
complete -c logtally -n "__fish_logtally_using_subcommand check" -l log-format -d 'An nginx log_format string (as in nginx.conf); overrides --format' -r
complete -c logtally -n "__fish_logtally_using_subcommand check" -l max-reject-ratio -d 'Fail (exit 1) when more than this share of non-blank lines is rejected' -r
complete -c logtally -n "__fish_logtally_using_subcommand check" -l tz -d 'IANA time zone of days, for the per-day bot rules of --bots (default: TZ, else the system\'s)' -r
complete -c logtally -n "__fish_logtally_using_subcommand check" -l bot-agents -d 'More user-agent patterns of bots for --bots: lines of `category<TAB>substring`' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand check" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand check" -l bots -d 'Also show what bot detection would flag, and why (top agents and addresses per reason)'
complete -c logtally -n "__fish_logtally_using_subcommand check" -l json -d 'Print the report as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c logtally -n "__fish_logtally_using_subcommand check" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l db -d 'Database file [default: $LOGTALLY_DB, else the config\'s db, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand tail" -s f -l format -d 'Log format of the input' -r -f -a "auto\t'Detect from the first lines'
combined\t'nginx/Apache combined (also reads common lines)'
common\t'NCSA/Apache common log format'
vcombined\t'combined with the virtual host first (%v:%p / $host)'
caddy\t'Caddy v2 JSON access log'"
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l log-format -d 'An nginx log_format string (as in nginx.conf); overrides --format' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l site -d 'Site name for every hit (default: the host field of the log, else "default"); `{dir}`: the name of the folder that holds each file (a collector\'s `remote/HOST/access.log`)' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l tz -d 'IANA time zone of day boundaries (default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l geoip -d 'A GeoLite2/GeoIP2 Country or DB-IP country database (.mmdb) to record each hit\'s country; it must be given when the lines are read, since addresses are never stored' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l bot-agents -d 'More user-agent patterns of bots, checked before the built-in ones: lines of `category<TAB>substring` (see `logtally check --bots`)' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l store -d 'Store the events in ClickHouse (`clickhouse://HOST:8123/DATABASE`, its HTTP port) instead of the SQLite database, which keeps the files\' progress; `sqlite`: the database, whatever clickhouse.url says [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l collector -d 'This collector\'s name in the ClickHouse store\'s rows, unique among the servers that write to it [default: clickhouse.collector, else the host name]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l from -d 'Where a file never seen before starts [default: start, or tail.from]' -r -f -a "start\t'Read its whole history'
end\t'Skip what is in it at start-up (files appearing later are read whole)'"
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l flush-interval -d 'Commit at least this often (500ms, 5s, 1m; 100ms to 1h) [default: 5s, or tail.flush_interval]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l batch-size -d 'Commit as soon as this many hits are waiting (1 to 1000000) [default: 10000, or tail.batch_size]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l poll-interval -d 'How often to poll (10ms to 1h) [default: 250ms, or tail.poll_interval]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l drain-idle -d 'How long a renamed or deleted file must stay idle before it is closed (100ms to 24h) [default: 5s, or tail.drain_idle]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l live-window -d 'Visitors seen within this time count as "on the site now" for `logtally live` (1s to 24h) [default: 5m, or live.window]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l live-rate -d 'A visitor making more requests than this in a minute is flagged as a bot at once (1 to 100000) [default: 60, or bots.max_per_minute]' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l live-socket -d 'Unix socket serving the live view [default: <db>.live.sock, or live.socket]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l live-http -d 'Also serve GET /live.json over HTTP on this loopback address (e.g. 127.0.0.1:8123)' -r
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand tail" -l poll -d 'Poll the files instead of using inotify (network file systems)'
complete -c logtally -n "__fish_logtally_using_subcommand tail" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c logtally -n "__fish_logtally_using_subcommand tail" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand import" -l db -d 'Database file [default: $LOGTALLY_DB, else the config\'s db, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import" -s f -l format -d 'Log format of the input' -r -f -a "auto\t'Detect from the first lines'
combined\t'nginx/Apache combined (also reads common lines)'
common\t'NCSA/Apache common log format'
vcombined\t'combined with the virtual host first (%v:%p / $host)'
caddy\t'Caddy v2 JSON access log'"
complete -c logtally -n "__fish_logtally_using_subcommand import" -l log-format -d 'An nginx log_format string (as in nginx.conf); overrides --format' -r
complete -c logtally -n "__fish_logtally_using_subcommand import" -l site -d 'Site name for every hit (default: the host field of the log, else "default"); `{dir}`: the name of the folder that holds each file (a collector\'s `remote/HOST/access.log`)' -r
complete -c logtally -n "__fish_logtally_using_subcommand import" -l tz -d 'IANA time zone of day boundaries (default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand import" -l geoip -d 'A GeoLite2/GeoIP2 Country or DB-IP country database (.mmdb) to record each hit\'s country; it must be given when the lines are read, since addresses are never stored' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import" -l bot-agents -d 'More user-agent patterns of bots, checked before the built-in ones: lines of `category<TAB>substring` (see `logtally check --bots`)' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import" -l store -d 'Store the events in ClickHouse (`clickhouse://HOST:8123/DATABASE`, its HTTP port) instead of the SQLite database, which keeps the files\' progress; `sqlite`: the database, whatever clickhouse.url says [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand import" -l collector -d 'This collector\'s name in the ClickHouse store\'s rows, unique among the servers that write to it [default: clickhouse.collector, else the host name]' -r
complete -c logtally -n "__fish_logtally_using_subcommand import" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import" -l json -d 'Print the summary as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c logtally -n "__fish_logtally_using_subcommand import" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l tz -d 'IANA time zone of day boundaries (default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l since -d 'Only roll up days on or after this date (YYYY-MM-DD)' -r
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l store -d 'Roll up the events of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`) into its own rollup tables; --db then only gives the collector\'s site facts, where it exists; `sqlite`: the database [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l rebuild -d 'Recompute every day whose raw events are all still in the database'
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -s v -l verbose -d 'Print a summary line'
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -l json -d 'Print the summary as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand rollup" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l keep-days -d 'Keep raw events of this many recent days (1 to 36500) [default: 30, or retention.keep_days]' -r
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l record-days -d 'Keep the permanent record of visits of this many recent days (0: forever) [default: 0, or retention.record_days]' -r
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l tz -d 'IANA time zone of day boundaries (use the rollup\'s; default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l store -d 'Clean this ClickHouse store (`clickhouse://HOST:8123/DATABASE`) instead of the database: its raw events, the rollups a later rollup replaced, its record and salts; `sqlite`: the database [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l vacuum -d 'Return the freed space to the file system (incremental vacuum, in small steps)'
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -s v -l verbose -d 'Print a summary line'
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -l json -d 'Print the summary as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand cleanup" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l site -d 'Only this site (default: all sites together)' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l period -d 'The period to report' -r -f -a "today\t'Today so far'
yesterday\t'Yesterday'
7d\t'The last 7 days, today included'
30d\t'The last 30 days, today included'
month\t'This month so far'
year\t'This year so far'
all\t'Every day with data'"
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l since -d 'First day (YYYY-MM-DD) instead of --period' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l until -d 'Last day (YYYY-MM-DD, default today) with --since' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l top -d 'Rows per section' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l format -d 'Output format' -r -f -a "table\t'Tables for a terminal'
json\t'JSON (stable shape, see the README)'
csv\t'CSV in long form: section,key,metric,value'
html\t'One self-contained HTML page (styles and chart inline, nothing fetched)'"
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l tz -d 'IANA time zone of days (use the rollup\'s; default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l store -d 'Read the rollups of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`), as `rollup --store` wrote them, instead of the SQLite database (nothing is rolled up first); `sqlite`: the database [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l filter -d 'Keep only the visits that match: KEY=VALUE, or KEY!=VALUE for those that do not; `*` in VALUE matches any text. Repeat it: every filter must hold. Keys: page, entry-page, exit-page, source, utm-source, utm-medium, utm-campaign, utm-content, utm-term, browser, os, device, country, goal' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l goal -d 'A goal, besides the configuration\'s [[goal]] tables: NAME=PATH, NAME=METHOD PATH or NAME=METHOD PATH STATUS (`Signup=POST /signup 2xx`; `*` in PATH matches any text)' -r
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand stats" -l no-refresh -d 'Do not roll up today\'s new events first'
complete -c logtally -n "__fish_logtally_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c logtally -n "__fish_logtally_using_subcommand stats" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand live" -l db -d 'Database the tail writes to, to find its socket [default: as for tail]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand live" -l socket -d 'The tail\'s live socket [default: <db>.live.sock]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand live" -l site -d 'One site only' -r
complete -c logtally -n "__fish_logtally_using_subcommand live" -l top -d 'Rows per list' -r
complete -c logtally -n "__fish_logtally_using_subcommand live" -l interval -d 'Refresh this often (100ms to 1h)' -r
complete -c logtally -n "__fish_logtally_using_subcommand live" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand live" -l once -d 'Print one snapshot and exit'
complete -c logtally -n "__fish_logtally_using_subcommand live" -l json -d 'JSON instead of a table (one object per refresh)'
complete -c logtally -n "__fish_logtally_using_subcommand live" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand live" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l listen -d 'Address to listen on (port 0: any free port, printed on stderr)' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l tz -d 'IANA time zone of days (the database\'s; default: TZ, else the system\'s, else UTC)' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l site -d 'The site shown when the URL names none (default: all sites together)' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l auth -d 'A file holding the password every request must give (HTTP Basic, any user name); required to listen on anything but loopback' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l live-socket -d 'The running tail\'s live socket [default: live.socket, or <db>.live.sock]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l top -d 'Rows per panel' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l cache-mib -d 'Memory for days of the record kept decoded between views, in MiB (0: none). A year of a site with 20,000 page views a day takes about 160 MiB; views of days not kept read them from the database each time' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l allow-origin -d 'Send `Access-Control-Allow-Origin` for /api/* to this origin (repeat for more; `*` for any), so pages of the site can read them from the browser' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l workers -d 'Report computations at once [default: the number of cores]' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l queue -d 'Computations that may wait for a worker; beyond them a request is answered 503 with Retry-After [default: 4 per worker]' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l timeout -d 'Longest a request waits for its answer before it is answered 503' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l answer-cache-mib -d 'Memory for answers kept between requests (each view once per change of the data), in MiB' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l client-timeout -d 'Time a client has to send its request\'s head, to take its answer, and to idle between requests on a kept-alive connection, before its connection is closed' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l max-connections -d 'Connections open at once; one more is answered 503 and closed' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l store -d 'Read the rollups of this ClickHouse store (`clickhouse://HOST:8123/DATABASE`), as `rollup --store` wrote them, instead of the database; `sqlite`: the database [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand serve" -l public-api -d 'Answer /api/* without --auth\'s password, on any address; the dashboard still asks for it'
complete -c logtally -n "__fish_logtally_using_subcommand serve" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand serve" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l from -d 'The service the export is of [default: told from the headers]' -r -f -a "plausible\t'Plausible\'s CSV export (`imported_visitors`, `imported_pages`, ...; also what Plausible CE, Pirsch and Swetrix read)'
fathom\t'Fathom\'s per-dimension CSVs'
goatcounter\t'GoatCounter\'s CSV export of page views'
umami\t'Umami\'s `website_event.csv`'"
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l site -d 'The site the export is of [default: the export\'s hostname where it carries one, else the database\'s only site]' -r
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l tz -d 'The zone the export\'s times are written in, where it does not say (Fathom: the zone of its dashboard); an IANA name such as Europe/Berlin' -r
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l fill-first-day -d 'Fill the logs\' first day of the site (taken as partial) from the export instead'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -l json -d 'Print the result as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -a "list" -d 'Show each import: source, file digest, days, zone'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -a "remove" -d 'Take one import out again (its id, as `list` shows it)'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and not __fish_seen_subcommand_from list remove help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from list" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from remove" -l db -d 'Database file [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from remove" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from remove" -l json -d 'Print the result as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show each import: source, file digest, days, zone'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Take one import out again (its id, as `list` shows it)'
complete -c logtally -n "__fish_logtally_using_subcommand import-history; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -l db -d 'Database file to copy [default: $LOGTALLY_DB, else /var/lib/logtally/logtally.db as root, else $XDG_DATA_HOME/logtally/logtally.db]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -l to -d 'The ClickHouse store to copy into (`clickhouse://HOST:8123/DATABASE`) [default: clickhouse.url]' -r
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -l json -d 'Print what was copied as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand migrate" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -f -a "check" -d 'Validate a configuration file and print the effective settings with where each comes from'
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -f -a "example" -d 'Print a commented example configuration with every setting and its default'
complete -c logtally -n "__fish_logtally_using_subcommand config; and not __fish_seen_subcommand_from check example help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Print the settings as JSON'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from example" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from example" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from example" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a configuration file and print the effective settings with where each comes from'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "example" -d 'Print a commented example configuration with every setting and its default'
complete -c logtally -n "__fish_logtally_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand generate" -l out -d 'Folder to write `man/` and `completions/` into' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand generate" -l config -d 'Configuration file [default: /etc/logtally/logtally.toml when it exists]' -r -F
complete -c logtally -n "__fish_logtally_using_subcommand generate" -s h -l help -d 'Print help'
complete -c logtally -n "__fish_logtally_using_subcommand generate" -s V -l version -d 'Print version'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "check" -d 'Parse log files and report formats, rejects and time range, writing nothing'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "tail" -d 'Follow access logs as they are written (run it under systemd), exactly once across rotation, crashes and restarts'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "import" -d 'Load historical or rotated logs (plain, .gz or stdin) into the database, exactly once'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "rollup" -d 'Compute daily rollups (visitors, page views, sources...) from raw events; run from cron'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "cleanup" -d 'Delete raw events past retention, never a day that is not rolled up; run from cron'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "stats" -d 'Show visitors, page views, sources, pages, browsers... from the rollups'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "live" -d 'Show who is on the site now, from the running tail\'s memory'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "serve" -d 'Serve the dashboard over HTTP, read-only (put it behind nginx)'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "import-history" -d 'Import the history of Plausible (an export) beside the logs; list and remove imports'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "migrate" -d 'Copy the database\'s history (rollups and record) into a ClickHouse store, once'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "config" -d 'Check the configuration file and show the settings in effect, or print an example'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "generate" -d 'Write man pages and shell completions from this command line\'s definition'
complete -c logtally -n "__fish_logtally_using_subcommand help; and not __fish_seen_subcommand_from check tail import rollup cleanup stats live serve import-history migrate config generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c logtally -n "__fish_logtally_using_subcommand help; and __fish_seen_subcommand_from import-history" -f -a "list" -d 'Show each import: source, file digest, days, zone'
complete -c logtally -n "__fish_logtally_using_subcommand help; and __fish_seen_subcommand_from import-history" -f -a "remove" -d 'Take one import out again (its id, as `list` shows it)'
complete -c logtally -n "__fish_logtally_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate a configuration file and print the effective settings with where each comes from'
complete -c logtally -n "__fish_logtally_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "example" -d 'Print a commented example configuration with every setting and its default'
