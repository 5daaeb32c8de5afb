// The whole program: the command line parses, builds a request, calls the pipeline and exits
// (BalanceReportCommand.swift).
BalanceReportCommand.main()
