// A SPARQL client on Java's own HTTP client (java.net.http), as Apache Jena 4.3+ and other JVM
// tools send requests: HTTP/2 preferred, so a plain-http request carries "Upgrade: h2c".
// Usage: java SparqlClient.java ENDPOINT get|post QUERYFILE  -> prints the CSV answer, exits 1 on
// a status other than 200.
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

public class SparqlClient {
    public static void main(String[] args) throws Exception {
        String endpoint = args[0];
        String method = args[1];
        String query = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8);
        String form = "query=" + URLEncoder.encode(query, StandardCharsets.UTF_8);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest.Builder request = method.equals("get")
            ? HttpRequest.newBuilder(URI.create(endpoint + "?" + form)).GET()
            : HttpRequest.newBuilder(URI.create(endpoint))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        request.header("Accept", "text/csv").timeout(Duration.ofSeconds(60));
        for (int i = 0; i < 2; i++) {  // twice: the first request on a connection and the next one
            HttpResponse<String> answer = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                System.err.println(answer.statusCode() + " " + answer.body());
                System.exit(1);
            }
            if (i == 1) {
                System.out.print(answer.body());
            }
        }
    }
}
