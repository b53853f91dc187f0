//! Feeds arbitrary bytes to every parser, to format detection, and to a compiled `log_format`
//! built from the input itself: none may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logtally::parse::{detect, Format, NginxFormat};

fuzz_target!(|data: &[u8]| {
    for format in [Format::Combined, Format::Common, Format::Vcombined, Format::Caddy] {
        let _ = format.parse(data);
    }
    let nginx = NginxFormat::compile(
        r#"$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $request_time $msec"#,
    )
    .expect("valid format");
    let _ = Format::Nginx(nginx).parse(data);
    let _ = detect(data.split(|c| *c == b'\n'));
    // The first line as a format string, the rest as a log line.
    if let Some(nl) = data.iter().position(|c| *c == b'\n') {
        if let Ok(fmt) = std::str::from_utf8(&data[..nl]) {
            if let Ok(f) = NginxFormat::compile(fmt) {
                let _ = f.parse(&data[nl + 1..]);
            }
        }
    }
});
