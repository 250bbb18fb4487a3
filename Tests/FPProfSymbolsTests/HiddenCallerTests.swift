import FPProfCore
import Foundation
import Testing

@testable import FPProfSymbols

/// The caller a frameless Go stack switch hides, named from the code, against `go tool objdump`: for every direct
/// call site `CALL F(SB)` in a Go binary, asking with the return address after it gives F's entry exactly when F's
/// own code calls the switch, `.nothing` when F is the switch, and no answer otherwise.
@Suite struct HiddenCallerTests {
    /// A Go program built once for the suite: Tests/Fixtures/go/leaf (its runtime holds the switches' callers).
    static let binary: Result<String, Tools.Failure> = Result {
        let directory = try Fixtures.scratchDirectory("hidden-caller")
        let path = directory + "/leaf"
        let source = EntryFrameTests.fixtures.appendingPathComponent("go/leaf").path
        try Tools.run(
            "sh", ["-c", "cd \"$0\" && GOFLAGS= GOPROXY=off GOTOOLCHAIN=local go build -o \"$1\" .", source, path])
        return path
    }.mapError { $0 as? Tools.Failure ?? Tools.Failure(description: "\($0)") }

    /// Per function (objdump's name), the direct call sites in it: (address after the call, callee name).
    struct CallSites {
        var calls: [(function: String, returnAddress: UInt64, callee: String)] = []
        init(objdump: String) {
            var current = ""
            for line in objdump.split(separator: "\n") {
                if line.hasPrefix("TEXT ") {
                    current = String(line.split(separator: " ")[1].dropLast("(SB)".count))
                    continue
                }
                let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count >= 4, fields[1].hasPrefix("0x"), fields[2].hasPrefix("e8"), fields[2].count == 10,
                    fields[3].hasPrefix("CALL "), fields[3].hasSuffix("(SB)"),
                    let address = UInt64(fields[1].dropFirst(2), radix: 16)
                else { continue }
                calls.append((current, address + 5, String(fields[3].dropFirst("CALL ".count).dropLast("(SB)".count))))
            }
        }

        func callers(of callee: String) -> Set<String> {
            Set(calls.filter { $0.callee == callee }.map(\.function))
        }
    }

    @Test(arguments: ["runtime.systemstack.abi0", "runtime.mcall"])
    func directCallersAreNamedExactly(_ switchName: String) throws {
        let path = try Self.binary.get()
        let reference = try ReferenceElf(path: path)
        let sites = CallSites(objdump: try Tools.run("go", ["tool", "objdump", path]))
        let module = ModuleID(path: path)
        let symbols = ElfSymbolizer().stackSwitchSymbols
        let switchSymbol = try #require(reference.symbol(named: switchName))
        let switchAt = NormalizedAddress(
            module: module, offset: FileOffset(try #require(reference.fileOffset(of: switchSymbol.address))))
        let callers = sites.callers(of: switchName)
        #expect(callers.count > 10, "\(switchName) has few callers: \(callers)")
        var checked = (named: 0, refused: 0)
        for site in sites.calls {
            let above = NormalizedAddress(
                module: module, offset: FileOffset(try #require(reference.fileOffset(of: site.returnAddress))))
            let answer = symbols.hiddenCaller(switchAt, above, nil)
            if callers.contains(site.callee) {
                let entry = try #require(reference.symbol(named: site.callee)).address
                let expected = reference.fileOffset(of: entry).map { HiddenCaller.function(FileOffset($0)) }
                #expect(answer == expected, "\(site)")
                checked.named += 1
            } else if site.callee == switchName {
                #expect(answer == .nothing, "\(site): \(String(describing: answer))")
            } else {
                #expect(answer == nil, "\(site) named \(String(describing: answer))")
                checked.refused += 1
            }
        }
        #expect(checked.named > 20 && checked.refused > 1000, "\(checked)")
    }

    /// A goroutine's entry function returns into the planted `goexit + 1`, after no call at all: its closure names
    /// it (`runtime.gcBgMarkWorker.func2` runs under `systemstack` for `runtime.gcBgMarkWorker`).
    @Test func aGoroutineEntryIsNamedByItsClosure() throws {
        let path = try Self.binary.get()
        let reference = try ReferenceElf(path: path)
        let module = ModuleID(path: path)
        func offset(_ name: String, plus delta: UInt64 = 0) throws -> NormalizedAddress {
            let symbol = try #require(reference.symbol(named: name))
            return NormalizedAddress(
                module: module, offset: FileOffset(try #require(reference.fileOffset(of: symbol.address + delta))))
        }
        let symbols = ElfSymbolizer().stackSwitchSymbols
        let switchAt = try offset("runtime.systemstack.abi0")
        let goexit = try offset("runtime.goexit.abi0", plus: 1)
        let closure = try offset("runtime.gcBgMarkWorker.func2", plus: 4)
        #expect(
            symbols.hiddenCaller(switchAt, goexit, closure) == .function(try offset("runtime.gcBgMarkWorker").offset))
        // Without the closure, or with a closure whose enclosing function never calls the switch: nothing.
        #expect(symbols.hiddenCaller(switchAt, goexit, nil) == nil)
        let unrelated = try offset("main.leaf")
        #expect(symbols.hiddenCaller(switchAt, goexit, unrelated) == nil)
    }

    @Test func closureNames() {
        #expect(GoClosureName.enclosingFunction(of: "runtime.gcBgMarkWorker.func2") == "runtime.gcBgMarkWorker")
        #expect(GoClosureName.enclosingFunction(of: "runtime.(*mheap).alloc.func1") == "runtime.(*mheap).alloc")
        #expect(GoClosureName.enclosingFunction(of: "main.main.func1.2") == "main.main")
        #expect(GoClosureName.enclosingFunction(of: "main.worker") == nil)
        #expect(GoClosureName.enclosingFunction(of: "main.func1") == nil)
        #expect(GoClosureName.enclosingFunction(of: "runtime.funcname") == nil)
    }

    @Test func switchTraits() {
        #expect(
            StackSwitchFrames.traits("runtime.mcall")
                == StackSwitchTraits(detaches: true, hidesCaller: true, runsCalleeOnG0: true))
        #expect(
            StackSwitchFrames.traits("runtime.systemstack.abi0")
                == StackSwitchTraits(hidesCaller: true, runsCalleeOnG0: true))
        #expect(
            StackSwitchFrames.traits("runtime.morestack.abi0")
                == StackSwitchTraits(detaches: true, runsCalleeOnG0: true))
        #expect(StackSwitchFrames.traits("runtime.nanotime1.abi0") == StackSwitchTraits())
        #expect(StackSwitchFrames.traits("runtime.asmcgocall") == StackSwitchTraits(hidesCaller: true))
    }
}
