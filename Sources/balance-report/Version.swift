/// The version `balance-report --version` prints and the man page carries: the one place it is written.
enum BalanceReportVersion {
    static let string = "1.0.0"
}
