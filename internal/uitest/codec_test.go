package uitest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/codecserver"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Selectors of a saga's page used by the codec check.
const selInput = `[data-testid="input-and-result"]`

// TestWebUIWithEncryption places an encrypted order and checks both views
// of its saga in the Web UI: without a codec endpoint it shows ciphertext,
// not the order; with the codec server as its endpoint (the UI's setting,
// kept in localStorage) it shows the order, its steps and compensations.
func TestWebUIWithEncryption(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvTemporalUIURL,
		config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx, cfg.TemporalUIURL)

	key, err := codec.GenerateKey("uitest", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := startCodecServer(t, c, cfg.TemporalUIURL)
	dc := c.DataConverter()
	s := startSagas(t, temporalclient.Options{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})

	in := order("bob", "eu", services.Item{SKU: "SKU-1", Quantity: 3})
	in.Demo.FailAt = workflows.StepCreateShipment
	p := s.place([]string{sagaclient.Compensated}, in)[0]
	s.listed(p, `SagaStatus="COMPENSATED"`) // search attributes stay readable

	page := "/namespaces/" + url.PathEscape(cfg.TemporalNamespace) + "/workflows/" + url.PathEscape(p.workflowID()) + "/" + p.runID + "/history"
	forward := "ReserveStock • Reserve 3 x SKU-1 in eu"
	compensation := "ReleaseStock • Compensate ReserveStock: release 3 x SKU-1 of order " + in.OrderID

	if global := b.codecEndpointSetting(); global != "" {
		t.Logf("the Web UI decodes through %s for everyone (--ui-codec-endpoint): the view without a codec endpoint is not checked", global)
	} else {
		b.open(page)
		// The UI shows an undecoded payload as it is: its metadata base64
		// encoded, its data ciphertext; and the failure as "Encoded failure".
		b.waitTexts("without a codec endpoint, the input and the result are ciphertext", selInput,
			base64.StdEncoding.EncodeToString([]byte(codec.Encoding)), "Encoded failure")
		b.waitTexts("the timeline still names the activities", selTimeline, "ReserveStock", "ReleaseStock")
		if text := b.text(selInput) + b.text("main"); containsAny(text, "Ada Lovelace", "customer_id", forward, compensation) {
			b.fail("without a codec endpoint the UI shows the order in clear")
		}
		b.screenshot("encrypted-without-codec")
	}

	b.setCodecEndpoint(endpoint)
	b.open(page)
	b.waitTexts("with the codec endpoint, the input is the order and the failure readable", selInput,
		`"customer_id": "bob"`, `"name": "Ada Lovelace"`, "order compensated: CreateShipment failed")
	b.waitTexts("with the codec endpoint, the timeline shows the summaries", selTimeline, forward, compensation)
	b.screenshot("encrypted-with-codec")
}

// startCodecServer serves c to the Web UI at uiURL (CORS) on a loopback
// port, until the test ends, and returns its address.
func startCodecServer(t *testing.T, c *codec.Codec, uiURL string) string {
	t.Helper()
	u, err := url.Parse(uiURL)
	if err != nil {
		t.Fatalf("Web UI address %q: %v", uiURL, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(codecserver.Handler(codecserver.Options{
		Codec: c, CORSOrigins: []string{u.Scheme + "://" + u.Host},
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// codecEndpointSetting returns the codec endpoint the Web UI's server
// configures for every user ("" when none).
func (b *browser) codecEndpointSetting() string {
	b.t.Helper()
	resp, err := http.Get(b.base + "/api/v1/settings")
	if err != nil {
		b.t.Fatalf("Web UI settings: %v", err)
	}
	defer resp.Body.Close()
	var s struct{ Codec struct{ Endpoint string } }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.t.Fatalf("Web UI settings: %v", err)
	}
	return s.Codec.Endpoint
}

// setCodecEndpoint sets the Web UI's codec endpoint, as its "Codec Server"
// settings do: in localStorage, read when a page loads.
func (b *browser) setCodecEndpoint(endpoint string) {
	b.t.Helper()
	v, err := json.Marshal(endpoint)
	if err != nil {
		b.t.Fatal(err)
	}
	b.do("set the codec endpoint", chromedp.Evaluate[chromedp.Void](
		`localStorage.setItem("endpoint", `+jsStrings([]string{string(v)})+`[0])`))
}
