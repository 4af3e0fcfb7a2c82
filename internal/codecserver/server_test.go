package codecserver_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sagaflow/sagaflow/internal/codec"
	"github.com/sagaflow/sagaflow/internal/codecserver"
)

func newServer(t *testing.T, token string) (*httptest.Server, *codec.Codec) {
	t.Helper()
	k, err := codec.GenerateKey("k1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := codec.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(r)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(codecserver.Handler(codecserver.Options{
		Codec: c, CORSOrigins: codecserver.DefaultCORSOrigins, Token: token,
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

// encryptedBody is a request body holding one encrypted payload of value.
func encryptedBody(t *testing.T, c *codec.Codec, value any) []byte {
	t.Helper()
	p, err := c.DataConverter().ToPayload(value)
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(t *testing.T, url string, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeResponse(t *testing.T, resp *http.Response) []*commonpb.Payload {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(body, &out); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return out.GetPayloads()
}

func TestDecodeAnEncryptedPayload(t *testing.T) {
	srv, c := newServer(t, "")
	body := encryptedBody(t, c, map[string]string{"street": "Rue Secrète 7"})
	// Both forms: the Web UI's (/decode with X-Namespace) and the CLI's (/{namespace}/decode).
	// And //decode: the CLI's template with an empty namespace.
	for _, path := range []string{"/decode", "/default/decode", "//decode"} {
		resp := post(t, srv.URL+path, body, map[string]string{"X-Namespace": "default"})
		payloads := decodeResponse(t, resp)
		if len(payloads) != 1 {
			t.Fatalf("%s: %d payloads", path, len(payloads))
		}
		if enc := string(payloads[0].GetMetadata()[converter.MetadataEncoding]); enc != converter.MetadataEncodingJSON {
			t.Errorf("%s: decoded encoding %q", path, enc)
		}
		if !strings.Contains(string(payloads[0].GetData()), "Rue Secrète 7") {
			t.Errorf("%s: decoded data %q", path, payloads[0].GetData())
		}
	}
	// And encode: what the UI sends when it signals or starts a workflow.
	plain, _ := converter.GetDefaultDataConverter().ToPayload("hello")
	reqBody, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	enc := decodeResponse(t, post(t, srv.URL+"/default/encode", reqBody, nil))
	if len(enc) != 1 || string(enc[0].GetMetadata()[converter.MetadataEncoding]) != codec.Encoding {
		t.Fatalf("encode answered %v", enc)
	}
	var s string
	if err := c.DataConverter().FromPayload(enc[0], &s); err != nil || s != "hello" {
		t.Errorf("encoded payload decodes to %q, %v", s, err)
	}
}

func TestCORSPreflight(t *testing.T) {
	srv, _ := newServer(t, "secret-token")
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", "http://localhost:8233")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status %s", resp.Status)
	}
	h := resp.Header
	if got := h.Get("Access-Control-Allow-Origin"); got != "http://localhost:8233" {
		t.Errorf("Allow-Origin %q", got)
	}
	allowHeaders := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
	for _, want := range []string{"content-type", "x-namespace", "authorization"} {
		if !strings.Contains(allowHeaders, want) {
			t.Errorf("Allow-Headers %q lacks %s", allowHeaders, want)
		}
	}
	if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("Allow-Methods %q, Allow-Credentials %q", h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Allow-Credentials"))
	}
	// An origin not on the list gets no CORS grant.
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("foreign origin allowed: %q", got)
	}
}

func TestTokenRequired(t *testing.T) {
	srv, c := newServer(t, "secret-token")
	body := encryptedBody(t, c, "x")
	for name, header := range map[string]map[string]string{
		"missing": nil,
		"wrong":   {"Authorization": "Bearer not-the-token"},
		"scheme":  {"Authorization": "Basic secret-token"},
	} {
		resp := post(t, srv.URL+"/default/decode", body, header)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s token: status %s", name, resp.Status)
		}
		got, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(got), "payloads") {
			t.Errorf("%s token: answered %s", name, got)
		}
	}
	resp := post(t, srv.URL+"/default/decode", body, map[string]string{"Authorization": "Bearer secret-token"})
	if p := decodeResponse(t, resp); len(p) != 1 {
		t.Errorf("with the token: %d payloads", len(p))
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	srv, _ := newServer(t, "")
	for _, path := range []string{"/", "/a/b/decode", "/default/other", "/decode/x"} {
		resp := post(t, srv.URL+path, []byte(`{"payloads":[]}`), nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %s", path, resp.Status)
		}
	}
	resp, err := http.Get(srv.URL + "/decode")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %s", resp.Status)
	}
}

// A payload sealed with a key the server does not hold: 400, naming the key.
func TestDecodeUnknownKeyIsAClearError(t *testing.T) {
	srv, _ := newServer(t, "")
	k2, _ := codec.GenerateKey("retired-2025", time.Now())
	r, _ := codec.NewKeyring(k2)
	c2, _ := codec.New(r)
	resp := post(t, srv.URL+"/decode", encryptedBody(t, c2, "x"), nil)
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), `"retired-2025"`) {
		t.Errorf("status %s: %s", resp.Status, got)
	}
}

func TestServeStopsWithItsContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- codecserver.Serve(ctx, l, http.NotFoundHandler(), "", "") }()
	resp, err := http.Get("http://" + l.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l2.Close()
	missing := filepath.Join(t.TempDir(), "cert.pem")
	if err := codecserver.Serve(context.Background(), l2, http.NotFoundHandler(), missing, missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing certificate: %v", err)
	}
}
