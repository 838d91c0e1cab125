package serve

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
)

// logBuffer keeps every log line (JSON) for the test to read and grep.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	t   *testing.T
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the log lines with message msg.
func (l *logBuffer) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// testConfig is the defaults on loopback ports, with yaml on top.
func testConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	for _, k := range []string{"listen", "http"} {
		if !strings.HasPrefix(yaml, k+":") && !strings.Contains(yaml, "\n"+k+":") {
			yaml = k + ": 127.0.0.1:0\n" + yaml
		}
	}
	c, err := Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// running is a Server that a test runs.
type running struct {
	*Server
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

func (r *running) url(path string) string { return "rtmp://" + r.Addr().String() + "/" + path }

// stop ends Run (drain and shutdown) and waits for it.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after its context ended")
	}
}

func start(t *testing.T, c *Config, o Options) *running {
	t.Helper()
	logs := &logBuffer{t: t}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	s, err := New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Server: s, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// writeCert makes a self-signed certificate for 127.0.0.1 and writes it
// and its key as PEM files in dir; it returns their paths and the serial.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, serial *big.Int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "ertmp test " + name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, serial
}

// servedSerial returns the serial of the certificate an RTMPS listener
// shows.
func servedSerial(t *testing.T, addr string) *big.Int {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /healthz says ok while serving and 503 once draining; handlers mounted
// on HTTPMux are served; after Drain nothing accepts RTMP.
func TestHTTPAndDrain(t *testing.T) {
	r := start(t, testConfig(t, ""), Options{})
	base := "http://" + r.HTTPAddr().String()
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	r.HTTPMux().Handle("/extra/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "api") }))
	if code, body := get(t, base+"/extra/streams"); code != 200 || body != "api" {
		t.Fatalf("a mounted handler: %d %q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := rtmp.DialPublish(ctx, r.url("live/x"), &rtmp.ClientConfig{Capabilities: &rtmp.Capabilities{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	asked, err := r.Drain(ctx)
	if asked != 0 || err != nil {
		t.Fatalf("Drain: asked %d, %v; want none (a legacy publisher)", asked, err)
	}
	if code, body := get(t, base+"/healthz"); code != 503 || body != "draining\n" {
		t.Fatalf("/healthz while draining: %d %q", code, body)
	}
	if c, err := net.DialTimeout("tcp", r.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the RTMP listener still accepts while draining")
	}
	if n := len(r.Hub().Sessions()); n != 1 {
		t.Fatalf("%d sessions while draining, want the publisher", n)
	}
}

// Two servers listen on the same port (SO_REUSEPORT), as an old and a new
// process do during a restart.
func TestReusePort(t *testing.T) {
	a := start(t, testConfig(t, "http: ''\n"), Options{})
	b := start(t, testConfig(t, "http: ''\nlisten: "+a.Addr().String()+"\n"), Options{})
	if a.Addr().String() != b.Addr().String() {
		t.Fatalf("%v and %v", a.Addr(), b.Addr())
	}
	s, err := New(testConfig(t, "reuse_port: false\nhttp: ''\nlisten: "+a.Addr().String()+"\n"), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err == nil {
		t.Fatal("without reuse_port a second listener on the port succeeded")
	}
}

// Reload: a bad certificate changes nothing; a good one is served to new
// connections.
func TestReloadCertificate(t *testing.T) {
	dir := t.TempDir()
	cert1, key1, serial1 := writeCert(t, dir, "one")
	c := testConfig(t, "rtmps: 127.0.0.1:0\ntls_cert: "+cert1+"\ntls_key: "+key1+"\n")
	r := start(t, c, Options{})
	addr := r.RTMPSAddr().String()
	if s := servedSerial(t, addr); s.Cmp(serial1) != 0 {
		t.Fatalf("serving serial %v, want %v", s, serial1)
	}
	bad := c.Clone()
	bad.TLSCert = filepath.Join(dir, "missing.crt")
	if err := r.Reload(bad); err == nil {
		t.Fatal("Reload with a missing certificate succeeded")
	}
	if s := servedSerial(t, addr); s.Cmp(serial1) != 0 {
		t.Fatalf("after a failed reload: serial %v, want %v", s, serial1)
	}
	cert2, key2, serial2 := writeCert(t, dir, "two")
	good := c.Clone()
	good.TLSCert, good.TLSKey = cert2, key2
	if err := r.Reload(good); err != nil {
		t.Fatal(err)
	}
	if s := servedSerial(t, addr); s.Cmp(serial2) != 0 {
		t.Fatalf("after reload: serial %v, want %v", s, serial2)
	}
}

// The profiling endpoints are served on their own address only, not on the
// HTTP listener.
func TestPprofListener(t *testing.T) {
	c := testConfig(t, "")
	c.Pprof = "127.0.0.1:0"
	r := start(t, c, Options{})
	if code, body := get(t, "http://"+r.PprofAddr().String()+"/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Fatalf("/debug/pprof/heap: %d %.80q", code, body)
	}
	if code, body := get(t, "http://"+r.PprofAddr().String()+"/debug/pprof/goroutine?debug=1"); code != 200 || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("/debug/pprof/goroutine: %d %.80q", code, body)
	}
	if code, _ := get(t, "http://"+r.HTTPAddr().String()+"/debug/pprof/heap"); code == 200 {
		t.Fatal("the HTTP listener serves the profiling endpoints")
	}
	if off := start(t, testConfig(t, ""), Options{}); off.PprofAddr() != nil {
		t.Fatalf("pprof listening at %v by default", off.PprofAddr())
	}
}
