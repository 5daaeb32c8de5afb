import ArgumentParser

/// Help texts and the command-name check that argument-parser does not do the way users need.
enum CommandHelp {
    static let rootDiscussion = """
        Exit codes: 0 the run succeeded; 1 the data, a file (an input, --profile, --contacts, \
        --templates), the templates or the output stopped it, and nothing was written (for send: a \
        partner's message was not sent); 2 the command line is wrong.
        Examples:
          balance-report render --period 2024-03 --out out exports/*.csv exports/*.xml
          balance-report validate --period 2024-Q1 exports/*.csv
          balance-report templates export my-templates --lang en
          balance-report send out --dry-run
        """

    /// A message when a word where a subcommand belongs names none, e.g. `rendr --period 2024-03`:
    /// argument-parser would complain about the first option instead (`Unknown option '--period'`),
    /// which sends the user looking in the wrong place. `nil` when the words are fine as far as
    /// subcommands go (options and arguments are argument-parser's to check).
    static func unknownSubcommand(_ arguments: [String], root: any ParsableCommand.Type = BalanceReportCommand.self) -> String? {
        var command: any ParsableCommand.Type = root
        var path = [root._commandName]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !argument.hasPrefix("-"), !subcommands.isEmpty else { return nil }
            if command == root && argument == "help" { return nil }
            guard let next = subcommands.first(where: { $0._commandName == argument }) else {
                let names = subcommands.map { $0._commandName }
                let nearest = names.map { (name: $0, distance: editDistance($0, argument)) }.min { $0.distance < $1.distance }
                let hint = nearest.flatMap { $0.distance <= 2 ? " (did you mean '\($0.name)'?)" : nil } ?? ""
                return "unknown subcommand '\(argument)' of \(path.joined(separator: " "))\(hint); the subcommands are \(names.joined(separator: ", ")) (see '\(path.joined(separator: " ")) --help')"
            }
            command = next
            path.append(argument)
        }
        return nil
    }

    /// Levenshtein distance over Unicode scalars.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
