package hls

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/fmp4"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
)

// env is a hub served over RTMP by rtmp.Server and over HLS by a Server
// behind a real HTTP server, all on loopback.
type env struct {
	hub    *live.Hub
	hls    *Server
	rtmp   string // host:port
	base   string // http://host:port
	client *http.Client
}

func startEnv(t *testing.T, o Options, cfg live.Config) *env {
	t.Helper()
	before := runtime.NumGoroutine()
	log := livetest.Logger(t)
	cfg.Logger = log
	if cfg.PlayWait == 0 {
		cfg.PlayWait = 20 * time.Second
	}
	hub := live.NewHub(cfg)
	o.Logger = log
	hs, err := NewServer(hub, o)
	if err != nil {
		t.Fatal(err)
	}
	addr := livetest.ServeRTMP(t, &rtmp.Server{Handler: hub, Logger: log}, hub, before)
	web := httptest.NewServer(hs)
	e := &env{hub: hub, hls: hs, rtmp: addr, base: web.URL, client: web.Client()}
	e.client.Timeout = 30 * time.Second
	t.Cleanup(func() {
		web.CloseClientConnections()
		web.Close()
		hs.Close()
	})
	return e
}

// get fetches path and returns the status and body; transport errors fail
// the test from the test goroutine only (tryGet for others).
func (e *env) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	code, b, err := e.tryGet(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return code, b
}

func (e *env) tryGet(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", e.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitSubscriber waits until key has a subscriber waiting for its
// publisher (a muxer started by a request).
func (e *env) waitSubscriber(t *testing.T, key live.Key) {
	t.Helper()
	eventually(t, "a subscriber waits for "+key.String(), func() bool {
		for _, si := range e.hub.Streams() {
			if si.Key == key && si.Subscribers > 0 {
				return true
			}
		}
		return false
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s, still not: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// playlist is a parsed playlist, as a test reads it.
type playlist struct {
	version          int
	target           int
	partTarget       float64
	partHoldBack     float64
	canBlock         bool
	seq              uint64
	independent      bool
	mapURI           string
	segments         []plSegment
	parts            []plPart // parts after the last segment (the current one)
	preload          string
	ended            bool
	pdt              int
	variants         []variant
	media            []attrs
	unknownTagsCount int
}

type plSegment struct {
	dur   float64
	uri   string
	parts []plPart
}

type plPart struct {
	dur         float64
	uri         string
	independent bool
}

type variant struct {
	attrs attrs
	uri   string
}

type attrs map[string]string

// parseAttrs reads an attribute list (RFC 8216bis §4.2).
func parseAttrs(s string) attrs {
	a := attrs{}
	for len(s) > 0 {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, "\"") {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				break
			}
			v, rest = rest[1:1+end], rest[2+end:]
		} else if i := strings.IndexByte(rest, ','); i >= 0 {
			v, rest = rest[:i], rest[i:]
		} else {
			v, rest = rest, ""
		}
		a[k] = v
		s = strings.TrimPrefix(rest, ",")
	}
	return a
}

func parsePlaylist(t *testing.T, b []byte) *playlist {
	t.Helper()
	p := &playlist{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	first := true
	var dur float64
	var pendingVariant attrs
	for sc.Scan() {
		l := sc.Text()
		if first {
			if l != "#EXTM3U" {
				t.Fatalf("playlist does not start with #EXTM3U:\n%s", b)
			}
			first = false
			continue
		}
		tag, val, _ := strings.Cut(l, ":")
		f := func() float64 {
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return v
		}
		switch {
		case l == "":
		case tag == "#EXT-X-VERSION":
			p.version = int(f())
		case tag == "#EXT-X-TARGETDURATION":
			p.target = int(f())
		case tag == "#EXT-X-PART-INF":
			p.partTarget, _ = strconv.ParseFloat(parseAttrs(val)["PART-TARGET"], 64)
		case tag == "#EXT-X-SERVER-CONTROL":
			a := parseAttrs(val)
			p.canBlock = a["CAN-BLOCK-RELOAD"] == "YES"
			p.partHoldBack, _ = strconv.ParseFloat(a["PART-HOLD-BACK"], 64)
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			p.seq = uint64(f())
		case l == "#EXT-X-INDEPENDENT-SEGMENTS":
			p.independent = true
		case tag == "#EXT-X-MAP":
			p.mapURI = parseAttrs(val)["URI"]
		case tag == "#EXT-X-PROGRAM-DATE-TIME":
			if _, err := time.Parse(time.RFC3339Nano, val); err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			p.pdt++
		case tag == "#EXT-X-PART":
			a := parseAttrs(val)
			d, err := strconv.ParseFloat(a["DURATION"], 64)
			if err != nil || a["URI"] == "" {
				t.Fatalf("bad part %q", l)
			}
			p.parts = append(p.parts, plPart{dur: d, uri: a["URI"], independent: a["INDEPENDENT"] == "YES"})
		case tag == "#EXTINF":
			d, _, _ := strings.Cut(val, ",")
			var err error
			if dur, err = strconv.ParseFloat(d, 64); err != nil {
				t.Fatalf("%s: %v", l, err)
			}
		case tag == "#EXT-X-PRELOAD-HINT":
			p.preload = parseAttrs(val)["URI"]
		case l == "#EXT-X-ENDLIST":
			p.ended = true
		case tag == "#EXT-X-STREAM-INF":
			pendingVariant = parseAttrs(val)
		case tag == "#EXT-X-MEDIA":
			p.media = append(p.media, parseAttrs(val))
		case strings.HasPrefix(l, "#"):
			p.unknownTagsCount++
		default:
			if pendingVariant != nil {
				p.variants = append(p.variants, variant{attrs: pendingVariant, uri: l})
				pendingVariant = nil
				continue
			}
			p.segments = append(p.segments, plSegment{dur: dur, uri: l, parts: p.parts})
			p.parts = nil
		}
	}
	return p
}

// checkMedia checks a media playlist against the rules a test can see
// (RFC 8216bis §4.4.3, §4.4.4, §4.4.5 and Apple's LL-HLS rules), and, given
// the previous version of the same playlist, that the media sequence
// number grew by one per segment removed.
func checkMedia(t *testing.T, p, prev *playlist, b []byte) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, b)...)
	}
	if p.target <= 0 || !p.independent || p.mapURI == "" || !p.canBlock {
		fail("target %d, independent %v, map %q, can block %v", p.target, p.independent, p.mapURI, p.canBlock)
	}
	if p.partTarget <= 0 || p.partHoldBack < 2*p.partTarget {
		fail("part target %v, part hold back %v", p.partTarget, p.partHoldBack)
	}
	if !p.ended && p.preload == "" {
		fail("no preload hint")
	}
	for _, s := range p.segments {
		if int(math.Round(s.dur)) > p.target {
			fail("segment %s of %.3f s over the target duration %d", s.uri, s.dur, p.target)
		}
		if len(s.parts) > 0 {
			sum := 0.0
			for _, pt := range s.parts {
				sum += pt.dur
			}
			if math.Abs(sum-s.dur) > 0.0005*float64(len(s.parts)) {
				fail("segment %s of %.3f s, its parts sum to %.3f", s.uri, s.dur, sum)
			}
			if !s.parts[0].independent {
				fail("segment %s: its first part is not independent", s.uri)
			}
		}
	}
	all := append([]plPart(nil), p.parts...)
	for _, s := range p.segments {
		all = append(all, s.parts...)
	}
	for _, pt := range all {
		if pt.dur > p.partTarget+1e-9 {
			fail("part %s of %.3f s over the part target %.3f", pt.uri, pt.dur, p.partTarget)
		}
	}
	if p.pdt == 0 && len(p.segments) > 0 {
		fail("no EXT-X-PROGRAM-DATE-TIME")
	}
	if prev == nil || len(prev.segments) == 0 || len(p.segments) == 0 {
		return
	}
	if p.seq < prev.seq {
		fail("media sequence went back from %d to %d", prev.seq, p.seq)
	}
	// The segment with a given number keeps its URI.
	d := int(p.seq - prev.seq)
	for i := d; i < len(prev.segments) && i-d < len(p.segments); i++ {
		if prev.segments[i].uri != p.segments[i-d].uri {
			fail("media sequence %d: segment %s was %s before", p.seq+uint64(i-d), p.segments[i-d].uri, prev.segments[i].uri)
		}
	}
}

// firstSampleSync reports whether the first sample of a fragment's first
// track run is a sync sample (ISO/IEC 14496-12 §8.8.3.1,
// sample_is_non_sync_sample clear), reading tfhd and trun.
func firstSampleSync(b []byte) (bool, error) {
	boxes, err := fmp4.ParseBoxes(b)
	if err != nil {
		return false, err
	}
	for i := range boxes {
		if boxes[i].Type.String() != "moof" {
			continue
		}
		traf := boxes[i].Find("traf")
		tfhd, trun := traf.Find("tfhd"), traf.Find("trun")
		if tfhd == nil || trun == nil {
			return false, fmt.Errorf("no tfhd or trun")
		}
		h := tfhd.Body
		hf := binary.BigEndian.Uint32(h) & 0xffffff
		off := 8
		for _, bit := range []uint32{0x01, 0x02, 0x08, 0x10} {
			if hf&bit != 0 {
				off += map[uint32]int{0x01: 8, 0x02: 4, 0x08: 4, 0x10: 4}[bit]
			}
		}
		var flags uint32
		if hf&0x20 != 0 {
			flags = binary.BigEndian.Uint32(h[off:])
		}
		r := trun.Body
		rf := binary.BigEndian.Uint32(r) & 0xffffff
		off = 8
		if rf&0x01 != 0 {
			off += 4
		}
		switch {
		case rf&0x04 != 0:
			flags = binary.BigEndian.Uint32(r[off:])
		case rf&0x400 != 0:
			if rf&0x100 != 0 {
				off += 4
			}
			if rf&0x200 != 0 {
				off += 4
			}
			flags = binary.BigEndian.Uint32(r[off:])
		}
		return flags&(1<<16) == 0, nil
	}
	return false, fmt.Errorf("no moof")
}
