import BalanceModel
import BalanceSupport
/// The import profiles that ship with the tool, chosen by name (`--profile focus`): the public
/// layouts a partner of a cloud really receives. Written as the YAML a user would write, and read
/// by the same parser, so `balance-report profiles --show NAME` prints a working starting point.
public enum BuiltInProfiles {
    public struct Entry: Sendable {
        public var name: String
        public var yaml: String
    }

    public static let all: [Entry] = [
        Entry(name: "focus", yaml: """
        description: "FinOps FOCUS 0.5-1.3 cost and usage: SubAccountId is the client (null: the billing account's own charges), BillingAccountId its partner, BilledCost the signed amount (float-printed and E-notation read exactly), ChargePeriodStart the time (UTC)"
        # The FOCUS columns (specification/columns of the FOCUS specification). Id is read where the
        # file has it (the sample data does); a file without one gets ids from the fields read.
        columns:
          SubAccountId: client_id
          BilledCost: amount
          BillingCurrency: currency
          ChargePeriodStart: timestamp
          ServiceName: service
          ChargeCategory: type
          ChargeDescription: description
          # FOCUS 0.5 named the category ChargeType (the same values).
          ChargeType: type
          # Exports that write the column ids in snake_case (billed_cost).
          sub_account_id: client_id
          billed_cost: amount
          billing_currency: currency
          charge_period_start: timestamp
          service_name: service
          charge_category: type
          charge_type: type
          charge_description: description
        # Every category is a charge; the sign makes credits and negative adjustments refunds (a
        # positive Credit is a credit taken back: a charge). The specification's values, and the
        # same in lower case, which some exporters write.
        transaction_types:
          Usage: charge
          Purchase: charge
          Tax: charge
          Credit: charge
          Adjustment: charge
          usage: charge
          purchase: charge
          tax: charge
          credit: charge
          adjustment: charge
        signed_amounts: yes
        # A cost export: what was spent, not what was paid. Pages show spend, not balances or debt.
        balances: no
        # Generated exports print BilledCost as a binary float (227.28753400000005, 8.0E-7).
        float_amounts: yes
        null_tokens: ["NULL", "\\\\N"]
        # Without an Id column: the fields read, and identical rows of one file counted.
        row_ids: fields
        # FOCUS times are UTC; `2024-09-18 22:00:00` is written without T and Z.
        input_offset: "+00:00"
        # No clients file: each sub-account is a client of the billing account its row names.
        clients_from_rows:
          name: SubAccountName
          partner: BillingAccountId
        # Each row's invoice, read where the file has the columns (snake_case too): invoices.csv
        # reconciles each invoice with the period. A ChargeClass Correction of an earlier period is
        # booked at the start of the billing period of the invoice that carries it.
        invoices:
          id: InvoiceId
          period_start: BillingPeriodStart
          period_end: BillingPeriodEnd
          charge_class: ChargeClass
        """),
        Entry(name: "yandex-cloud-partner", yaml: """
        description: "Yandex Cloud partner report: a row per day, product and folder; billing_account_id is the client, cost a charge, credit (negative) its discount; a later export of a day supersedes the earlier"
        columns:
          billing_account_id: client_id
          date: timestamp
          service_name: service
          sku_name: description
          currency: currency
        # `date` is a day in UTC+3.
        timestamp_format: "YYYY-MM-DD"
        input_offset: "+03:00"
        # cost is what the client was charged; credit is the documented total of the discount
        # columns (negative): a negative charge, so a refund of its absolute value. The discount
        # parts (monetary_grant_credit, …) are never added to it; reward is the partner's.
        amount_columns:
          cost: charge
          credit: charge
        signed_amounts: yes
        # A report of what clients spent, not of what they paid: shown as spend, not balances.
        balances: no
        row_ids: content
        clients_from_rows:
          name: billing_account_name
        supersede:
          day: date
          version: exported_at
        """),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> Entry? {
        all.first { $0.name == name }
    }
}

extension ImportProfile {
    /// `--profile`: a built-in profile by name, or a YAML file.
    public static func resolve(_ nameOrPath: String) throws(ProfileError) -> ImportProfile {
        if let entry = BuiltInProfiles.named(nameOrPath) {
            return try parse(entry.yaml, path: "built-in profile \(entry.name)")
        }
        return try load(path: nameOrPath)
    }
}
