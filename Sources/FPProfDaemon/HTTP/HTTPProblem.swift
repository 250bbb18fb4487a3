/// A request the HTTP side answers with an error: the status code and one plain-text line saying why, as Go's
/// `net/http/pprof` answers (`go tool pprof` prints the body of a failed fetch).
struct HTTPProblem: Error, Sendable {
    var status: Int
    var message: String

    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}
