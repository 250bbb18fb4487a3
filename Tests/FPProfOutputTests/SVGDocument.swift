import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The frames of a flamegraph as an XML parser sees them: proof that the file parses, and the numbers the
/// browser would draw.
struct SVGDocument {
    struct Frame {
        var id: String
        var classes: Set<String>
        var start: Int
        var count: Int
        var depth: Int
        var title: String
        var x: Double
        var y: Double
        var width: Double
        var fill: String
        var label: String
        var name: String { String(title.split(separator: "\n", omittingEmptySubsequences: false).first ?? "") }
    }

    var root: [String: String] = [:]
    var frames: [Frame] = []
    var legend: [String] = []
    var scriptCount = 0
    var textByID: [String: String] = [:]

    private init() {}

    init(_ text: String) throws {
        let delegate = Collector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            throw Tool.Failure(description: "SVG does not parse: \(String(describing: parser.parserError))")
        }
        self = delegate.document
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var document = SVGDocument()
        var current: Frame?
        var inTitle = false
        var inText = false
        var inLegend = false
        var textID: String?
        var buffer = ""

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            switch name {
            case "svg": document.root = attributes
            case "script": document.scriptCount += 1
            case "g" where attributes["id"] == "legend": inLegend = true
            case "g" where (attributes["class"] ?? "").split(separator: " ").contains("f"):
                current = Frame(
                    id: attributes["id"] ?? "",
                    classes: Set((attributes["class"] ?? "").split(separator: " ").map(String.init)),
                    start: Int(attributes["data-x"] ?? "") ?? -1, count: Int(attributes["data-n"] ?? "") ?? -1,
                    depth: Int(attributes["data-d"] ?? "") ?? -1, title: "", x: 0, y: 0, width: 0, fill: "", label: "")
            case "title" where current != nil:
                inTitle = true
                buffer = ""
            case "rect" where current != nil:
                current!.x = Double(attributes["x"] ?? "") ?? .nan
                current!.y = Double(attributes["y"] ?? "") ?? .nan
                current!.width = Double(attributes["width"] ?? "") ?? .nan
                current!.fill = attributes["fill"] ?? ""
            case "text":
                inText = true
                textID = attributes["id"]
                buffer = ""
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inTitle || inText { buffer += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "title" where inTitle:
                current?.title = buffer
                inTitle = false
            case "text":
                if current != nil { current!.label = buffer }
                if inLegend { document.legend.append(buffer) }
                if let id = textID { document.textByID[id] = buffer }
                inText = false
                textID = nil
            case "g":
                if let frame = current {
                    document.frames.append(frame)
                    current = nil
                } else if inLegend {
                    inLegend = false
                }
            default: break
            }
        }
    }
}
