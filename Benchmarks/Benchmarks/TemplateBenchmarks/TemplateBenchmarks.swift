// The template engine's row loop, the same rows both ways: a `TemplateTable`, whose names the
// engine resolves to field numbers once per section (what the product's large tables use), and
// the generic path, a scope per row answering names by string (what small tables and a generic
// Mustache engine do). The rows are a client detail table: id, time, type, service, amount and
// running balance, with the shipped client page's row markup.
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import BenchSupport

/// One detail row, built once in setup.
struct Row: Sendable {
    var id: String
    var instant: Instant
    var kind: String
    var service: String
    var amount: Money
    var balance: Money
}

/// The resolved path: names become field numbers once per section.
final class RowTable: TemplateTable {
    static let fields = ["id", "timestamp", "type", "service", "amount", "balance_after", "is_charge"]
    let rows: [Row]
    init(_ rows: [Row]) { self.rows = rows }
    var count: Int { rows.count }
    func field(_ name: String) -> Int? { RowTable.fields.firstIndex(of: name) }
    func value(row: Int, field: Int) -> TemplateValue {
        switch field {
        case 0: return .text(rows[row].id)
        case 1: return .instant(rows[row].instant)
        case 2: return .text(rows[row].kind)
        case 3: return .text(rows[row].service)
        case 4: return .money(rows[row].amount)
        case 5: return .money(rows[row].balance)
        default: return .flag(rows[row].kind == "charge")
        }
    }
}

/// The generic path: every name of every row looked up by string through the scope stack.
final class RowScope: TemplateScope {
    let rows: [Row]
    var index = 0
    init(_ rows: [Row]) { self.rows = rows }
    func value(_ name: String) -> TemplateValue? {
        switch name {
        case "id": return .text(rows[index].id)
        case "timestamp": return .instant(rows[index].instant)
        case "type": return .text(rows[index].kind)
        case "service": return .text(rows[index].service)
        case "amount": return .money(rows[index].amount)
        case "balance_after": return .money(rows[index].balance)
        case "is_charge": return .flag(rows[index].kind == "charge")
        default: return nil
        }
    }
}

struct Page: TemplateScope {
    let rows: TemplateValue
    func value(_ name: String) -> TemplateValue? { name == "transactions" ? rows : nil }
}

let source = """
    <table>
    {{#transactions}}
    <tr style="border-top:1px solid #d1d9e0"><td><small>{{timestamp}}</small><br>{{type}} · {{service}}</td><td align="right">{{#is_charge}}−{{/is_charge}}{{amount}}</td><td align="right">{{balance_after}}</td></tr>
    {{/transactions}}
    </table>
    """

func makeRows(_ count: Int) -> [Row] {
    let services = ["Compute Cloud", "Object Storage", "Managed Kafka", "Cloud CDN", "Kubernetes"]
    var balance = Money.zero
    return (0..<count).map { index in
        let amount = Money(picos: (Int128(index % 977) * 1_234_567 + 10_000) * 1_000_000)
        let kind = index % 10 == 0 ? "topup" : "charge"
        balance = kind == "topup" ? balance + amount : balance - amount
        return Row(id: "t-\(index)", instant: Instant(seconds: 1_709_240_400 + Int64(index) * 37),
                   kind: kind, service: services[index % services.count], amount: amount, balance: balance)
    }
}

let benchmarks: @Sendable () -> Void = {
    let template = try! Template(name: "rows.html", source: source, contentType: .html)
    for size in BenchData.sizes where size.rows <= 1_000_000 {
        let configuration = BenchData.configuration(size)
        Benchmark("TemplateRowsResolved-\(size.label)", configuration: configuration) { _, rows in
            var output: [UInt8] = []
            output.reserveCapacity(rows.count * 200)
            try template.render(Page(rows: .table(RowTable(rows))), into: &output)
            blackHole(output.count)
        } setup: {
            makeRows(size.rows)
        }
        Benchmark("TemplateRowsGeneric-\(size.label)", configuration: configuration) { _, rows in
            var output: [UInt8] = []
            output.reserveCapacity(rows.count * 200)
            let scope = RowScope(rows)
            try template.render(Page(rows: .rows(count: rows.count) { index in scope.index = index; return scope }), into: &output)
            blackHole(output.count)
        } setup: {
            makeRows(size.rows)
        }
    }
}
