// Apache Jena SHACL, run once for many data files (tests/jena.py starts it with the source
// launcher: java -cp JENA tests/JenaShacl.java SHAPES DATA...). For each data file it prints
// "@@<TAB>file<TAB>conforms" and then one line per result: focus, path, constraint component,
// each in N-Triples syntax (the path as Jena writes it).
import org.apache.jena.graph.Graph;
import org.apache.jena.graph.Node;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.riot.out.NodeFmtLib;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.shacl.validation.ReportEntry;

public class JenaShacl {
    static String fmt(Node node) {
        return node == null ? "" : NodeFmtLib.strNT(node);
    }

    public static void main(String[] args) {
        Shapes shapes = Shapes.parse(RDFDataMgr.loadGraph(args[0]));
        for (int i = 1; i < args.length; i++) {
            Graph data = RDFDataMgr.loadGraph(args[i]);
            ValidationReport report = ShaclValidator.get().validate(shapes, data);
            System.out.println("@@\t" + args[i] + "\t" + report.conforms());
            for (ReportEntry e : report.getEntries()) {
                String path = e.resultPath() == null ? "" : e.resultPath().toString();
                System.out.println(fmt(e.focusNode()) + "\t" + path + "\t"
                                   + fmt(e.sourceConstraintComponent()));
            }
        }
    }
}
