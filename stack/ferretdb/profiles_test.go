package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServeProfilesOnLoopbackOnly(t *testing.T) {
	if addr, err := serveProfiles(""); addr != nil || err != nil {
		t.Errorf(`serveProfiles("") = %v, %v; want nothing served`, addr, err)
	}
	for _, bad := range []string{"0.0.0.0:6061", ":6061", "localhost:6061", "6061"} {
		if _, err := serveProfiles(bad); err == nil {
			t.Errorf("serveProfiles(%q) served; want refused", bad)
		}
	}
	addr, err := serveProfiles("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/: %s, %q; want the profiles' index", resp.Status, body)
	}
}
