import Foundation
import Testing

@testable import FPProfDaemon

@Suite struct UnitsTests {
    @Test func durations() {
        #expect(Units.duration("90s") == .seconds(90))
        #expect(Units.duration("15m") == .seconds(900))
        #expect(Units.duration("2h") == .seconds(7200))
        #expect(Units.duration("7d") == .seconds(7 * 86400))
        #expect(Units.duration("1w") == .seconds(7 * 86400))
        #expect(Units.duration("500ms") == .milliseconds(500))
        #expect(Units.duration("1.5s") == .milliseconds(1500))
        #expect(Units.duration(" 2s ") == .seconds(2))
        for bad in ["90", "s", "-1s", "+1s", "1y", "1 sec", "", "1e400s"] {
            #expect(Units.duration(bad) == nil, "\(bad)")
        }
    }

    /// Finite but too long for a Duration's milliseconds: refused, where the conversion trapped (issue 14, item 4).
    @Test func hugeDurationsAreRefused() {
        for text in ["1e300s", "1e16w", "9.3e18ms", "1e308d"] { #expect(Units.duration(text) == nil, "\(text)") }
        #expect(Units.duration("1e6w") == .seconds(604_800_000_000))
    }

    @Test func sizes() {
        #expect(Units.size("512MiB") == 512 << 20)
        #expect(Units.size("1GiB") == 1 << 30)
        #expect(Units.size("64KiB") == 64 << 10)
        #expect(Units.size("10MB") == 10_000_000)
        #expect(Units.size("4096B") == 4096)
        #expect(Units.size("4096") == 4096)
        #expect(Units.size("1.5KiB") == 1536)
        for bad in ["lots", "MiB", "-1MiB", "1 PiB", ""] {
            #expect(Units.size(bad) == nil, "\(bad)")
        }
    }

    @Test func describedDurations() {
        #expect(Units.describe(.seconds(2)) == "2s")
        #expect(Units.describe(.seconds(900)) == "15m")
        #expect(Units.describe(.milliseconds(1500)) == "1500ms")
        #expect(Units.describe(.seconds(86400)) == "1d")
    }
}

@Suite struct KeyLocatorTests {
    @Test func findsKeysInTablesAndArraysOfTables() {
        let text = """
            window = "1m"        # 1
            [retention]          # 2
            max_age = "1d"       # 3
            [[target]]           # 4
            name = "a"           # 5
            [target.retention]   # 6
            max_bytes = 3        # 7
            [[target]]           # 8
            # comment            # 9
            "name" = "b"         # 10
            labels = { a = "x" } # 11
            doc = \"\"\"
            frequency = 1
            \"\"\"
            frequency = 5        # 15
            """
        let locator = KeyLocator(text: text)
        #expect(locator.line(of: "window") == 1)
        #expect(locator.line(of: "retention.max_age") == 3)
        #expect(locator.line(of: "target#0") == 4)
        #expect(locator.line(of: "target#0.name") == 5)
        #expect(locator.line(of: "target#0.retention.max_bytes") == 7)
        #expect(locator.line(of: "target#1") == 8)
        #expect(locator.line(of: "target#1.name") == 10)
        #expect(locator.line(of: "target#1.labels.a") == 11)
        #expect(locator.line(of: "target#1.frequency") == 15)
        #expect(locator.line(of: "target#1.missing") == 8)
        #expect(locator.line(of: "nothing") == nil)
    }
}
