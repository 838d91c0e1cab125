package handshake_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ertmp/rtmp/handshake"
)

// FuzzParseC1 parses arbitrary bytes as C1 and as S1 and checks every
// verdict against the reference HMAC code: a digest is reported exactly
// when one is valid.
func FuzzParseC1(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 100))
	f.Add(first(refC1(1, 0, [4]byte{}, -1, nil)))
	f.Add(first(refC1(2, 1, fp9, 0, refFPPart)))
	f.Add(first(refC1(3, 2, fp9, 1, refFPPart)))
	f.Add(first(refC1(4, 3, fp9, 1, refFMSPart)))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, side := range []struct {
			name  string
			parse func([]byte) (handshake.Challenge, error)
			key   []byte
		}{
			{"C1", handshake.ParseC1, refFPPart},
			{"S1", handshake.ParseS1, refFMSPart},
		} {
			c, err := side.parse(b)
			if len(b) < handshake.Size {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s: %d bytes: err = %v, want io.ErrUnexpectedEOF", side.name, len(b), err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: err = %v", side.name, err)
			}
			if c.Epoch != uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]) || !bytes.Equal(c.Version[:], b[4:8]) {
				t.Fatalf("%s: header %d % x, packet % x", side.name, c.Epoch, c.Version, b[:8])
			}
			versioned := c.Version != [4]byte{}
			d0, ok0 := refCheck(b, 0, side.key)
			d1, ok1 := refCheck(b, 1, side.key)
			switch {
			case c.Kind == handshake.KindDigest && c.Schema == handshake.Schema1:
				if !versioned || !ok1 || !bytes.Equal(d1, c.Digest[:]) {
					t.Fatalf("%s: schema1 digest reported, reference disagrees", side.name)
				}
			case c.Kind == handshake.KindDigest && c.Schema == handshake.Schema0:
				if !versioned || !ok0 || !bytes.Equal(d0, c.Digest[:]) {
					t.Fatalf("%s: schema0 digest reported, reference disagrees", side.name)
				}
			case c.Kind == handshake.KindSimple:
				if versioned && (ok0 || ok1) {
					t.Fatalf("%s: valid digest missed", side.name)
				}
			default:
				t.Fatalf("%s: Kind %v Schema %v", side.name, c.Kind, c.Schema)
			}
		}
	})
}

// FuzzServer feeds arbitrary bytes to Server as C0 C1 C2, whole and one
// byte at a time, and checks what it wrote.
func FuzzServer(f *testing.F) {
	c2 := first(refC1(9, 0, [4]byte{}, -1, nil))
	f.Add([]byte{}, false, uint8(0))
	f.Add([]byte("GET / HTTP/1.1\r\n"), false, uint8(0))
	f.Add(append([]byte{6}, first(refC1(5, 0, fp9, 1, refFPPart))...), false, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, first(refC1(6, 0, [4]byte{}, -1, nil)), c2}, nil), false, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, first(refC1(7, 0, fp9, 0, refFPPart)), c2}, nil), true, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, first(refC1(8, 0, fp9, 1, refFPPart)), c2}, nil), false, uint8(2))
	f.Add(bytes.Join([][]byte{{3}, first(refC1(8, 0, fp9, 1, refFPPart))}, nil), false, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, strict bool, mode uint8) {
		cfg := handshake.Config{Mode: handshake.Mode(mode % 3), Strict: strict}
		run := func(r io.Reader) (handshake.Result, error, []byte) {
			cfg.Rand = detRand(1)
			var w bytes.Buffer
			res, err := handshake.Server(struct {
				io.Reader
				io.Writer
			}{r, &w}, &cfg)
			return res, err, w.Bytes()
		}
		res, err, out := run(bytes.NewReader(data))
		res1, err1, out1 := run(iotest.OneByteReader(bytes.NewReader(data)))
		if res != res1 || (err == nil) != (err1 == nil) || !bytes.Equal(out, out1) {
			t.Fatalf("one byte at a time differs: %+v %v vs %+v %v", res, err, res1, err1)
		}
		if len(out) != 0 && len(out) != 1+2*handshake.Size {
			t.Fatalf("wrote %d bytes", len(out))
		}
		if err != nil {
			switch {
			case errors.Is(err, handshake.ErrVersion), errors.Is(err, io.ErrUnexpectedEOF),
				errors.Is(err, handshake.ErrDigest), errors.Is(err, handshake.ErrEcho):
			case errors.Is(err, io.EOF) && len(data) == 0:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, handshake.ErrVersion) && len(out) != 0 {
				t.Fatal("wrote S0S1S2 after refusing C0")
			}
			return
		}
		if len(data) < 1+2*handshake.Size || len(out) == 0 || out[0] != 3 {
			t.Fatalf("success on %d bytes, wrote %d", len(data), len(out))
		}
		c1, s1, s2 := data[1:1537], out[1:1537], out[1537:]
		if res.Kind == handshake.KindDigest {
			cd, ok := refCheck(c1, int(res.Schema), refFPPart)
			if !ok {
				t.Fatal("digest answered, C1 has no valid digest")
			}
			if _, ok := refCheck(s1, int(res.Schema), refFMSPart); !ok {
				t.Fatal("S1 digest invalid")
			}
			if !bytes.Equal(s2[1504:], refResponse(s2, cd, refFMSKey)) {
				t.Fatal("S2 response digest invalid")
			}
		} else if !bytes.Equal(s2, c1) {
			t.Fatal("simple S2 is not an echo of C1")
		}
	})
}

// FuzzClient feeds arbitrary bytes to Client as S0 S1 S2.
func FuzzClient(f *testing.F) {
	s1 := first(refC1(10, 0, [4]byte{}, -1, nil))
	ds1 := first(refC1(11, 0, [4]byte{13, 14, 10, 13}, 0, refFMSPart))
	f.Add([]byte{}, false, uint8(0))
	f.Add([]byte{6}, false, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, s1, s1}, nil), false, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, ds1, s1}, nil), false, uint8(0))
	f.Add(bytes.Join([][]byte{{3}, ds1, s1}, nil), true, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, strict bool, mode uint8) {
		m := &memPeer{}
		m.script.Write(data)
		res, err := handshake.Client(m, &handshake.Config{Mode: handshake.Mode(mode % 3), Strict: strict, Rand: detRand(2)})
		w := m.written.Bytes()
		if err != nil {
			switch {
			case errors.Is(err, handshake.ErrVersion), errors.Is(err, io.ErrUnexpectedEOF),
				errors.Is(err, handshake.ErrDigest), errors.Is(err, handshake.ErrEcho):
			default:
				t.Fatalf("unexpected error %v", err)
			}
			if m.writes != 1 {
				t.Fatalf("%d writes after an error, want 1 (C0C1)", m.writes)
			}
			return
		}
		if m.writes != 2 || len(w) != 1+2*handshake.Size || len(data) < 1+2*handshake.Size {
			t.Fatalf("success with %d writes, %d bytes written, %d read", m.writes, len(w), len(data))
		}
		c2, srvS1 := w[1+handshake.Size:], data[1:1537]
		versioned := srvS1[4]|srvS1[5]|srvS1[6]|srvS1[7] != 0
		_, ok0 := refCheck(srvS1, 0, refFMSPart)
		_, ok1 := refCheck(srvS1, 1, refFMSPart)
		if res.Kind == handshake.KindDigest {
			d, ok := refCheck(srvS1, int(res.Schema), refFMSPart)
			if !ok || !versioned || mode%3 == 1 {
				t.Fatal("digest negotiated without a valid S1 digest")
			}
			if !bytes.Equal(c2[1504:], refResponse(c2, d, refFPKey)) {
				t.Fatal("C2 response digest invalid")
			}
			return
		}
		if versioned && (ok0 || ok1) && mode%3 != 1 {
			t.Fatal("valid S1 digest missed")
		}
		if !bytes.Equal(c2, srvS1) {
			t.Fatal("simple C2 is not an echo of S1")
		}
	})
}
