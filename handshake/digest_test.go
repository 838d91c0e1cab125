package handshake_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ertmp/rtmp/handshake"
)

func pattern(mul, add int) []byte {
	p := make([]byte, 1536)
	for i := range p {
		p[i] = byte(i*mul + add)
	}
	return p
}

// TestGolden checks the digests against values computed outside Go, with
// Python's hmac and hashlib modules, from the public description of the
// digest handshake. The packets are fixed patterns: byte i of C1 is
// 7i+3, of S1 13i+5, of the C2/S2 body 11i+1 (mod 256); time 0; the peer
// digest answered by C2/S2 is the bytes 0, 1, ..., 31.
func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		schema  handshake.Schema
		s1      bool
		wantOff int
		want    string
	}{
		{"C1/schema0", handshake.Schema0, false, 942, "e6a7fbdda4aab503b4e693e92d6f18d9d4b89f3ef0e95fffe767a4830aa37109"},
		{"C1/schema1", handshake.Schema1, false, 290, "612af37c38c4a1b74e5737fc4021ded17ed92a9431c19bc665cf421131bad8a6"},
		{"S1/schema0", handshake.Schema0, true, 1082, "7a0aadd2b4b11d1081c27887d8dee1cc1b290da7d2c6df63e24213e6fc23f38b"},
		{"S1/schema1", handshake.Schema1, true, 526, "117dcbb372a6b6a29872ad2653f55ba54a4c1d400e4397cf9985ad0ee5996f8d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p [handshake.Size]byte
			var d [handshake.DigestSize]byte
			var err error
			if tt.s1 {
				d, err = handshake.BuildS1(&p, 0, [4]byte{13, 14, 10, 13}, tt.schema, bytes.NewReader(pattern(13, 5)[8:]))
			} else {
				d, err = handshake.BuildC1(&p, 0, [4]byte{9, 0, 124, 2}, tt.schema, bytes.NewReader(pattern(7, 3)[8:]))
			}
			if err != nil {
				t.Fatal(err)
			}
			if off := handshake.DigestOffset(p[:], tt.schema); off != tt.wantOff {
				t.Errorf("DigestOffset = %d, want %d", off, tt.wantOff)
			}
			if got := hex.EncodeToString(d[:]); got != tt.want {
				t.Errorf("digest = %s, want %s", got, tt.want)
			}
			if got := hex.EncodeToString(p[tt.wantOff : tt.wantOff+32]); got != tt.want {
				t.Errorf("digest in packet = %s, want %s", got, tt.want)
			}
		})
	}

	var peer [handshake.DigestSize]byte
	for i := range peer {
		peer[i] = byte(i)
	}
	body := pattern(11, 1)[:1504]
	for _, tt := range []struct {
		name  string
		build func(*[handshake.Size]byte, [handshake.DigestSize]byte, io.Reader) error
		want  string
	}{
		{"S2", handshake.BuildS2, "975f46b15395c7a42e13b1398257e902b8ebc5d3677fe2baa3eb065d73cafa99"},
		{"C2", handshake.BuildC2, "12a4eda6231b755acf423393aba9186965c5d35c70902ac39a3897973ee4b594"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p [handshake.Size]byte
			if err := tt.build(&p, peer, bytes.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p[:1504], body) {
				t.Error("body is not the random input")
			}
			if got := hex.EncodeToString(p[1504:]); got != tt.want {
				t.Errorf("response digest = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestBuildAgainstReference checks every builder against the reference
// HMAC computation of testutil_test.go, in both schemas, over many random
// packets (so over many digest offsets).
func TestBuildAgainstReference(t *testing.T) {
	for _, schema := range []handshake.Schema{handshake.Schema0, handshake.Schema1} {
		t.Run(schema.String(), func(t *testing.T) {
			for seed := uint64(0); seed < 64; seed++ {
				var c1, s1, c2, s2 [handshake.Size]byte
				c1d, err := handshake.BuildC1(&c1, 0x01020304, [4]byte{9, 0, 124, 2}, schema, detRand(seed))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := c1[:8], []byte{1, 2, 3, 4, 9, 0, 124, 2}; !bytes.Equal(got, want) {
					t.Fatalf("C1 header = % x, want % x", got, want)
				}
				ref, ok := refCheck(c1[:], int(schema), refFPPart)
				if !ok || !bytes.Equal(ref, c1d[:]) {
					t.Fatalf("seed %d: C1 digest does not verify with the reference", seed)
				}
				s1d, err := handshake.BuildS1(&s1, 7, [4]byte{13, 14, 10, 13}, schema, detRand(seed+1000))
				if err != nil {
					t.Fatal(err)
				}
				ref, ok = refCheck(s1[:], int(schema), refFMSPart)
				if !ok || !bytes.Equal(ref, s1d[:]) {
					t.Fatalf("seed %d: S1 digest does not verify with the reference", seed)
				}
				if err := handshake.BuildS2(&s2, c1d, detRand(seed+2000)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(s2[1504:], refResponse(s2[:], c1d[:], refFMSKey)) {
					t.Fatalf("seed %d: S2 response differs from the reference", seed)
				}
				if err := handshake.BuildC2(&c2, s1d, detRand(seed+3000)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c2[1504:], refResponse(c2[:], s1d[:], refFPKey)) {
					t.Fatalf("seed %d: C2 response differs from the reference", seed)
				}
				if !handshake.VerifyS2(s2[:], c1d) || !handshake.VerifyC2(c2[:], s1d) {
					t.Fatalf("seed %d: Verify rejects a good response", seed)
				}
				// The keys are not interchangeable.
				if handshake.VerifyC2(s2[:], c1d) || handshake.VerifyS2(c2[:], s1d) {
					t.Fatalf("seed %d: a response verifies with the other side's key", seed)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	fp9 := [4]byte{9, 0, 124, 2}
	for _, tt := range []struct {
		name       string
		pkt        []byte
		parse      func([]byte) (handshake.Challenge, error)
		wantKind   handshake.Kind
		wantSchema handshake.Schema
	}{
		{"C1 simple", first(refC1(1, 5, [4]byte{}, -1, nil)), handshake.ParseC1, handshake.KindSimple, 0},
		{"C1 digest schema0", first(refC1(2, 5, fp9, 0, refFPPart)), handshake.ParseC1, handshake.KindDigest, handshake.Schema0},
		{"C1 digest schema1", first(refC1(3, 5, fp9, 1, refFPPart)), handshake.ParseC1, handshake.KindDigest, handshake.Schema1},
		{"C1 version set, no digest", first(refC1(4, 5, fp9, -1, nil)), handshake.ParseC1, handshake.KindSimple, 0},
		{"C1 zero version, valid digest", first(refC1(5, 5, [4]byte{}, 1, refFPPart)), handshake.ParseC1, handshake.KindSimple, 0},
		{"C1 signed with the server key", first(refC1(6, 5, fp9, 1, refFMSPart)), handshake.ParseC1, handshake.KindSimple, 0},
		{"S1 digest schema0", first(refC1(7, 5, fp9, 0, refFMSPart)), handshake.ParseS1, handshake.KindDigest, handshake.Schema0},
		{"S1 digest schema1", first(refC1(8, 5, fp9, 1, refFMSPart)), handshake.ParseS1, handshake.KindDigest, handshake.Schema1},
		{"S1 signed with the client key", first(refC1(9, 5, fp9, 1, refFPPart)), handshake.ParseS1, handshake.KindSimple, 0},
		{"C1 longer than Size", append(first(refC1(10, 5, fp9, 0, refFPPart)), 1, 2, 3), handshake.ParseC1, handshake.KindDigest, handshake.Schema0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := bytes.Clone(tt.pkt)
			c, err := tt.parse(tt.pkt)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.wantKind || (c.Kind == handshake.KindDigest && c.Schema != tt.wantSchema) {
				t.Fatalf("got %v %v, want %v %v", c.Kind, c.Schema, tt.wantKind, tt.wantSchema)
			}
			if c.Epoch != 5 || !bytes.Equal(c.Version[:], tt.pkt[4:8]) {
				t.Errorf("Epoch, Version = %d, % x", c.Epoch, c.Version)
			}
			if c.Kind == handshake.KindDigest {
				off := refOffset(tt.pkt, int(c.Schema))
				if !bytes.Equal(c.Digest[:], tt.pkt[off:off+32]) {
					t.Error("Digest is not the packet's digest")
				}
			}
			if !bytes.Equal(before, tt.pkt) {
				t.Error("parse modified its input")
			}
		})
	}
}

func first(p, _ []byte) []byte { return p }

func TestParseTruncated(t *testing.T) {
	full := first(refC1(1, 0, [4]byte{9, 0, 124, 2}, 1, refFPPart))
	for _, n := range []int{0, 1, 8, 12, 775, 776, 1535} {
		for name, parse := range map[string]func([]byte) (handshake.Challenge, error){
			"C1": handshake.ParseC1, "S1": handshake.ParseS1,
		} {
			if _, err := parse(full[:n]); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Parse%s(%d bytes): err = %v, want io.ErrUnexpectedEOF", name, n, err)
			}
		}
	}
	if handshake.VerifyC2(full[:1535], [32]byte{}) || handshake.VerifyS2(nil, [32]byte{}) {
		t.Error("Verify accepts a short packet")
	}
}

func TestDigestOffset(t *testing.T) {
	p := make([]byte, handshake.Size)
	// Every sum of four offset bytes, 0..1020.
	for sum := 0; sum <= 4*255; sum++ {
		for _, base := range []int{8, 772} {
			clear(p[base : base+4])
			for i, left := 0, sum; left > 0; i++ {
				v := min(left, 255)
				p[base+i] = byte(v)
				left -= v
			}
		}
		for _, s := range []handshake.Schema{handshake.Schema0, handshake.Schema1} {
			off := handshake.DigestOffset(p, s)
			if want := refOffset(p, int(s)); off != want {
				t.Fatalf("sum %d %v: offset %d, want %d", sum, s, off, want)
			}
			lo, hi := 12, 772 // the digest stays inside its block, after the offset field
			if s == handshake.Schema0 {
				lo, hi = 776, 1536
			}
			if off < lo || off+32 > hi {
				t.Fatalf("sum %d %v: digest [%d, %d) leaves its block [%d, %d)", sum, s, off, off+32, lo, hi)
			}
		}
	}
}

func TestBuildErrors(t *testing.T) {
	var p [handshake.Size]byte
	boom := errors.New("boom")
	if _, err := handshake.BuildC1(&p, 0, [4]byte{1}, handshake.Schema(2), detRand(1)); err == nil {
		t.Error("BuildC1 with schema 2: no error")
	}
	for name, f := range map[string]func(io.Reader) error{
		"BuildSimple": func(r io.Reader) error { return handshake.BuildSimple(&p, 0, r) },
		"BuildC1":     func(r io.Reader) error { _, err := handshake.BuildC1(&p, 0, [4]byte{1}, 0, r); return err },
		"BuildS1":     func(r io.Reader) error { _, err := handshake.BuildS1(&p, 0, [4]byte{1}, 1, r); return err },
		"BuildC2":     func(r io.Reader) error { return handshake.BuildC2(&p, [32]byte{}, r) },
		"BuildS2":     func(r io.Reader) error { return handshake.BuildS2(&p, [32]byte{}, r) },
	} {
		if err := f(iotest.ErrReader(boom)); !errors.Is(err, boom) {
			t.Errorf("%s with a failing Rand: err = %v, want boom", name, err)
		}
		if err := f(bytes.NewReader(make([]byte, 100))); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s with a short Rand: err = %v, want io.ErrUnexpectedEOF", name, err)
		}
	}
}

func TestBuildSimple(t *testing.T) {
	var p [handshake.Size]byte
	for i := range p {
		p[i] = 0xee
	}
	if err := handshake.BuildSimple(&p, 0xa1b2c3d4, detRand(9)); err != nil {
		t.Fatal(err)
	}
	if got, want := p[:8], []byte{0xa1, 0xb2, 0xc3, 0xd4, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("time, zero = % x, want % x (§5.2.3)", got, want)
	}
	if bytes.Count(p[8:], []byte{0xee}) > 100 {
		t.Error("random part was not filled")
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct {
		got  string
		want string
	}{
		{handshake.ModeAuto.String(), "auto"},
		{handshake.ModeSimple.String(), "simple"},
		{handshake.ModeDigest.String(), "digest"},
		{handshake.Mode(9).String(), "Mode(9)"},
		{handshake.KindSimple.String(), "simple"},
		{handshake.KindDigest.String(), "digest"},
		{handshake.Kind(7).String(), "Kind(7)"},
		{handshake.Schema0.String(), "schema0"},
		{handshake.Schema1.String(), "schema1"},
		{handshake.Schema(3).String(), "Schema(3)"},
	} {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}
