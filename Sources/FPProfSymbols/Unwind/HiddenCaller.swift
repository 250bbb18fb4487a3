internal import FPProfCore

/// Names the function a frameless Go stack switch hides (see `StackSwitchRepair`), from the code alone:
///
/// 1. The return address above the switch follows a call instruction. A direct call names its target: that is the
///    hidden caller, provided the target is a function's first byte and that function's own code calls the switch.
///    A call of the switch itself means nothing is hidden (the switch made a frame record: Go's 2023 `mcall`).
/// 2. A goroutine's entry function has no call before its return address (it returns into the `goexit+1` that
///    `newproc` planted). There the switch's callee helps: `systemstack(func() { ... })` runs a closure, which Go
///    names after the function that holds it (`runtime.gcBgMarkWorker.func2`). That function is the hidden caller
///    when its code calls the switch itself.
///
/// Both checks ask whether a function calls the switch, by scanning its code once for direct calls (`E8 rel32`
/// whose target is the switch's first byte). The code is `.text` as the Go function table already holds it for the
/// entry rules (the switches are Go's, so a module without `.gopclntab` has none). Anything else gives no answer
/// rather than a guess.
extension LoadedModule {
    func hiddenCaller(switchAt: FileOffset, above: FileOffset, callee: FileOffset?) -> HiddenCaller<FileOffset>? {
        guard let file, let go = openGo(file), let switchIndex = file.symbolIndex(atFileOffset: switchAt) else {
            return nil
        }
        let target = file.symbols.range(of: switchIndex).lowerBound
        if let caller = directCallee(returningTo: above, in: file, go) {
            // The frame above called the switch itself: the switch made a record of its own, and hides nothing.
            if caller.lowerBound == target { return .nothing }
            if calls(caller, target, go) { return entry(caller, in: file) }
        }
        if let callee, let calleeIndex = file.symbolIndex(atFileOffset: callee),
            let parent = GoClosureName.enclosingFunction(of: file.symbols.name(of: calleeIndex)),
            let parentIndex = file.symbols.index(named: parent)
        {
            let range = file.symbols.range(of: parentIndex)
            if calls(range, target, go) { return entry(range, in: file) }
        }
        return nil
    }

    private func entry(_ function: Range<UInt64>, in file: ElfFile) -> HiddenCaller<FileOffset>? {
        file.segments.fileOffset(forVirtualAddress: function.lowerBound).map { .function(FileOffset($0)) }
    }

    /// The function a direct call ending right before `offset` calls, when its target is a function's first byte.
    private func directCallee(returningTo offset: FileOffset, in file: ElfFile, _ go: GoFunctionTable)
        -> Range<UInt64>?
    {
        guard let ret = file.segments.virtualAddress(forFileOffset: offset.rawValue),
            ret >= UInt64(DirectCall.length),
            let bytes = go.code(at: ret - UInt64(DirectCall.length), count: DirectCall.length),
            let displacement = DirectCall.displacement(bytes)
        else { return nil }
        let target = ret &+ UInt64(bitPattern: displacement)
        guard let index = file.symbols.index(containing: target) else { return nil }
        let range = file.symbols.range(of: index)
        return range.lowerBound == target ? range : nil
    }

    /// Whether the code of `function` makes a direct call to `target`.
    private func calls(_ function: Range<UInt64>, _ target: UInt64, _ go: GoFunctionTable) -> Bool {
        if let known = directCallTargets[function.lowerBound] { return known.contains(target) }
        var targets = Set<UInt64>()
        let size = function.upperBound - function.lowerBound
        if size < 1 << 20, let code = go.code(at: function.lowerBound, count: Int(size)) {
            targets = DirectCall.targets(in: code, at: function.lowerBound)
        }
        directCallTargets[function.lowerBound] = targets
        return targets.contains(target)
    }
}

/// Go's names for function literals: `pkg.F.func1`, `pkg.(*T).M.func2`, nested `pkg.F.func1.1` (Go 1.21+ also
/// `pkg.F.func1.2`). The enclosing function is the name before the first `.funcN`.
enum GoClosureName {
    static func enclosingFunction(of name: String) -> String? {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false)
        var sawFunc = false
        while let last = parts.last {
            if last.hasPrefix("func"), !last.dropFirst(4).isEmpty, last.dropFirst(4).allSatisfy(\.isNumber) {
                sawFunc = true
                parts.removeLast()
                // Everything before the first `.funcN` is the enclosing function; keep peeling nested ones.
                continue
            }
            if !sawFunc, !last.isEmpty, last.allSatisfy(\.isNumber) {
                parts.removeLast()
                continue
            }
            break
        }
        guard sawFunc, parts.count >= 2 else { return nil }
        return parts.joined(separator: ".")
    }
}
