/// Stacks merged into a call tree, laid out on a sample axis: every node covers `[start, start + count)`, its
/// children side by side inside it in name order. The flamegraph draws exactly this, one box per node, so a box's
/// width is its count times one scale factor and never rounded to a pixel grid.
struct FlameTree {
    struct Node {
        var name: String
        var role: DisplayFrame.Role
        var module: Int?
        var count = 0
        var start = 0
        var depth: Int
        /// Under an unwind marker (or the marker itself): the part of the profile whose callers are unknown.
        var flagged: Bool
        var children: [Int] = []
    }

    private struct ChildKey: Hashable {
        var parent: Int
        var name: String
        var role: DisplayFrame.Role
    }

    /// Node 0 is the root, "all".
    private(set) var nodes: [Node]
    private(set) var maxDepth = 0

    var total: Int { nodes[0].count }

    init(_ profile: NamedProfile) {
        nodes = [Node(name: "all", role: .process, depth: 0, flagged: false)]
        var index: [ChildKey: Int] = [:]
        for stack in profile.stacks where stack.samples > 0 {
            var current = 0
            nodes[0].count += stack.samples
            for frame in profile.displayFrames(of: stack) {
                let key = ChildKey(parent: current, name: frame.name, role: frame.role)
                let child: Int
                if let i = index[key] {
                    child = i
                } else {
                    child = nodes.count
                    let depth = nodes[current].depth + 1
                    let flagged = nodes[current].flagged || frame.role == .marker
                    nodes.append(
                        Node(name: frame.name, role: frame.role, module: frame.module, depth: depth, flagged: flagged))
                    nodes[current].children.append(child)
                    index[key] = child
                    maxDepth = max(maxDepth, depth)
                }
                nodes[child].count += stack.samples
                current = child
            }
        }
        layOut(0, start: 0)
    }

    /// Children in name order (as flamegraph.pl does: merging by name, not by time), each starting where its
    /// previous sibling ends. Iterative, so a 10,000-frame recursion cannot overflow the stack.
    private mutating func layOut(_ root: Int, start: Int) {
        var work = [(root, start)]
        while let (i, start) = work.popLast() {
            nodes[i].start = start
            let order = nodes[i].children.sorted { a, b in
                nodes[a].name != nodes[b].name ? nodes[a].name < nodes[b].name : a < b
            }
            nodes[i].children = order
            var x = start
            for c in order {
                work.append((c, x))
                x += nodes[c].count
            }
        }
    }

    /// Nodes in drawing order: parents before children, so a zoomed view's JavaScript finds ancestors first.
    var drawingOrder: [Int] {
        var out: [Int] = []
        out.reserveCapacity(nodes.count)
        var work = [0]
        while let i = work.popLast() {
            out.append(i)
            work.append(contentsOf: nodes[i].children.reversed())
        }
        return out
    }
}
