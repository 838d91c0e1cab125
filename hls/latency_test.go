package hls

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ertmp/rtmp/fmp4"
)

// TestLatencyFigures measures LL-HLS latency as a player that follows the
// live edge with blocking reloads sees it, for HLS_LATENCY (a duration,
// default 5s; 1m for the figures): a library publisher sends the H.264/AAC
// test file in real time, looped, and notes when it writes each video
// frame; a client asks for each next part of the video playlist
// (_HLS_msn, _HLS_part) over HTTP. It prints
//
//   - packet to playlist: from the write of each video frame to the
//     playlist response that first lists the part holding it (p50, p99,
//     max): half a part on average, by construction, plus the server's
//     work;
//   - reload after part: from the write of the frame that completes a part
//     (the first of the next one) to the response of the blocking reload
//     that asked for the part.
//
// It fails if a blocking reload returns more than a part duration after its
// part was complete (p99).
func TestLatencyFigures(t *testing.T) {
	d := 5 * time.Second
	if v := os.Getenv("HLS_LATENCY"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	const partDur = 500 * time.Millisecond
	e, f, p := startFed(t, Options{Part: partDur}, "lat")
	var pkt, reload []time.Duration
	end := time.Now().Add(d)
	next := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		msn, part := lastPart(p)
		code, b := e.get(t, fmt.Sprintf("/live/lat/v0.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part+1))
		at := time.Now()
		if code != 200 {
			t.Fatalf("blocking reload: %d %s", code, b)
		}
		np := parsePlaylist(t, b)
		// The parts np lists after (msn, part), in order.
		type pos struct {
			msn  uint64
			i    int
			part plPart
		}
		var fresh []pos
		for si, s := range np.segments {
			for i, pt := range s.parts {
				fresh = append(fresh, pos{np.seq + uint64(si), i, pt})
			}
		}
		for i, pt := range np.parts {
			fresh = append(fresh, pos{np.seq + uint64(len(np.segments)), i, pt})
		}
		fresh = slices.DeleteFunc(fresh, func(x pos) bool { return x.msn < msn || x.msn == msn && x.i <= part })
		for k, x := range fresh {
			code, data := e.get(t, "/live/lat/"+x.part.uri)
			if code != 200 {
				t.Fatalf("part %s: %d", x.part.uri, code)
			}
			start, err := decodeTime(data)
			if err != nil {
				t.Fatalf("part %s: %v", x.part.uri, err)
			}
			stop := start + int64(x.part.dur*1000+0.5)
			for ts := start; ts < stop; ts++ {
				if w, ok := f.writtenAt(ts); ok {
					pkt = append(pkt, at.Sub(w))
				}
			}
			if w, ok := f.writtenAt(stop); ok && k == 0 {
				reload = append(reload, at.Sub(w))
			}
		}
		p = np
		if time.Now().After(next) {
			t.Logf("%v: %d frames, %d reloads measured", time.Until(end).Round(time.Second), len(pkt), len(reload))
			next = next.Add(10 * time.Second)
		}
	}
	if len(pkt) < 10 || len(reload) < 5 {
		t.Fatalf("%d frames and %d reloads measured", len(pkt), len(reload))
	}
	pp, rp := percentiles(pkt), percentiles(reload)
	t.Logf("over %v, part target %v: packet to playlist p50 %v p99 %v max %v (%d frames); reload after part p50 %v p99 %v max %v (%d reloads)",
		d, partDur, pp[0], pp[1], pp[2], len(pkt), rp[0], rp[1], rp[2], len(reload))
	if rp[1] > partDur {
		t.Errorf("blocking reloads came %v (p99) after their part was complete, over a part duration", rp[1])
	}
}

// percentiles returns p50, p99 and the maximum, to the 0.1 ms.
func percentiles(ds []time.Duration) [3]time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		return s[min(int(q*float64(len(s))), len(s)-1)].Round(100 * time.Microsecond)
	}
	return [3]time.Duration{at(0.5), at(0.99), s[len(s)-1].Round(100 * time.Microsecond)}
}

// decodeTime returns a fragment's first decode time in milliseconds (tfdt,
// ISO/IEC 14496-12 §8.8.12; video's timescale is 90 kHz).
func decodeTime(b []byte) (int64, error) {
	boxes, err := fmp4.ParseBoxes(b)
	if err != nil {
		return 0, err
	}
	if len(boxes) == 0 {
		return 0, fmt.Errorf("no box")
	}
	tfdt := boxes[0].Find("traf/tfdt")
	if tfdt == nil || len(tfdt.Body) < 12 || tfdt.Body[0] != 1 {
		return 0, fmt.Errorf("no tfdt of version 1")
	}
	return int64(binary.BigEndian.Uint64(tfdt.Body[4:])) / (fmp4.VideoTimescale / 1000), nil
}
