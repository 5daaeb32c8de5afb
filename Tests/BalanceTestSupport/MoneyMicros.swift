import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport

/// Amounts in millionths, as the tests written for six fractional digits state them. `micros`
/// is exact only for amounts with at most six digits, which is what those tests use; tests of
/// more digits use `picos`.
extension Money {
    init(micros: Int128) { self.init(picos: micros * 1_000_000) }

    var micros: Int128 {
        precondition(picos % 1_000_000 == 0, "\(self) has more than six fractional digits")
        return picos / 1_000_000
    }
}
