package handshake_test

import (
	"crypto/rand"
	"net"
	"testing"

	"github.com/ertmp/rtmp/handshake"
)

func benchPair(b *testing.B, ccfg, scfg *handshake.Config, want handshake.Kind) {
	b.ReportAllocs()
	b.SetBytes(2 * (1 + 2*handshake.Size))
	for b.Loop() {
		c, s := net.Pipe()
		errc := make(chan error, 1)
		go func() {
			_, err := handshake.Server(s, scfg)
			s.Close()
			errc <- err
		}()
		res, err := handshake.Client(c, ccfg)
		c.Close()
		if serr := <-errc; err != nil || serr != nil || res.Kind != want {
			b.Fatalf("client %v, server %v, kind %v", err, serr, res.Kind)
		}
	}
}

// BenchmarkHandshakeDigest is a full digest handshake, Client against
// Server, over net.Pipe.
func BenchmarkHandshakeDigest(b *testing.B) {
	benchPair(b, nil, nil, handshake.KindDigest)
}

func BenchmarkHandshakeSimple(b *testing.B) {
	cfg := &handshake.Config{Mode: handshake.ModeSimple}
	benchPair(b, cfg, cfg, handshake.KindSimple)
}

// BenchmarkParseC1 is the server's digest check of a schema 0 C1 (it tries
// schema 1 first, so two HMACs over 1504 bytes).
func BenchmarkParseC1(b *testing.B) {
	var c1 [handshake.Size]byte
	if _, err := handshake.BuildC1(&c1, 0, handshake.DefaultClientVersion, handshake.Schema0, rand.Reader); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(handshake.Size)
	for b.Loop() {
		if c, _ := handshake.ParseC1(c1[:]); c.Kind != handshake.KindDigest {
			b.Fatal("no digest")
		}
	}
}

// BenchmarkBuildS2 is the response digest (two HMACs) plus 1504 random
// bytes from crypto/rand.
func BenchmarkBuildS2(b *testing.B) {
	var s2 [handshake.Size]byte
	var d [handshake.DigestSize]byte
	b.ReportAllocs()
	for b.Loop() {
		if err := handshake.BuildS2(&s2, d, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyC2 is the response digest alone.
func BenchmarkVerifyC2(b *testing.B) {
	var c2 [handshake.Size]byte
	var d [handshake.DigestSize]byte
	b.ReportAllocs()
	for b.Loop() {
		handshake.VerifyC2(c2[:], d)
	}
}
