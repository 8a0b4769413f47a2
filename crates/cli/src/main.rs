//! `calendar-connector-cli`: see `calendar_connector_cli::run`.

fn main() {
    std::process::exit(calendar_connector_cli::main_with_args(std::env::args_os()));
}
