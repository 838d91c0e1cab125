package relay_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/relay"
)

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ertmp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// A push to an rtmps:// target, with the push's TLS settings.
func TestPushRTMPS(t *testing.T) {
	noLeaks(t)
	cert, pool := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	target := newHub(t, live.Config{PlayWait: 10 * time.Second})
	srv := &rtmp.Server{Handler: target, Logger: logger(t), Capabilities: everything}
	go srv.Serve(ln)
	t.Cleanup(func() {
		target.Shutdown(ctxT(t, 5*time.Second))
		srv.Shutdown(ctxT(t, 5*time.Second))
	})
	src, m := pusherWith(t, relay.PushOptions{Client: &rtmp.ClientConfig{TLSConfig: &tls.Config{RootCAs: pool}}},
		"rtmps://"+ln.Addr().String()+"/live/{stream}?key=secret")
	key := live.Key{App: "live", Name: "tls"}
	subC := subscribe(t, target, key, live.SubscribeOptions{})
	pub, err := src.Publish(ctxT(t, 5*time.Second), key, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	pub.Write(rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq()})
	sub := get(t, subC)
	got := read(t, sub, 2, 5*time.Second)
	if !bytes.Equal(got[0].Payload(), avcSeq()) || !bytes.Equal(got[1].Payload(), aacSeq()) {
		t.Fatalf("the rtmps target got %x, %x", got[0].Payload(), got[1].Payload())
	}
	if st := m.Pushes()[0].Targets[0]; st.State != relay.StateConnected || st.URL != "rtmps://"+ln.Addr().String()+"/live/tls" {
		t.Fatalf("target %+v", st)
	}
}
