package hls

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Resource names under /APP/STREAM/ (q is the viewer's query, kept on
// every URI so that play keys reach each request):
//
//	index.m3u8                 the master playlist
//	NAME.m3u8                  a rendition's media playlist (v0, a1: kind and track id)
//	NAME-INST.mp4              its initialization segment
//	NAME-INST-MSN.m4s          a media segment
//	NAME-INST-MSN.PART.m4s     a partial segment
//
// INST names the muxer instance: a stream that ends and starts again gets
// new segment names, so caches never mix two instances' media.

func (m *muxer) initURI(r *rendition, q string) string {
	return r.name + "-" + m.inst + ".mp4" + q
}

func (m *muxer) segmentURI(r *rendition, msn uint64, q string) string {
	return r.name + "-" + m.inst + "-" + strconv.FormatUint(msn, 10) + ".m4s" + q
}

func (m *muxer) partURI(r *rendition, msn uint64, i int, q string) string {
	return r.name + "-" + m.inst + "-" + strconv.FormatUint(msn, 10) + "." + strconv.Itoa(i) + ".m4s" + q
}

// seconds formats milliseconds as decimal seconds.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}

// masterLocked writes the master playlist (RFC 8216bis §4.4.6): each video
// track a variant (EXT-X-STREAM-INF), each audio track an alternate
// rendition in one group (EXT-X-MEDIA TYPE=AUDIO) that every variant
// names; with no video, each audio track is a variant of its own.
func (m *muxer) masterLocked(q string) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	var videos, audios []*rendition
	for _, r := range m.rends {
		if _, ok := r.lastComplete(); r.broken != nil || r.track == nil || !ok {
			continue
		}
		if r.video {
			videos = append(videos, r)
		} else {
			audios = append(audios, r)
		}
	}
	var audioCodecs []string
	var audioPeak int64
	if len(videos) > 0 {
		for i, r := range audios {
			l := m.names[trackKey{false, r.id}]
			name := l.name
			if name == "" {
				name = "audio " + strconv.Itoa(int(r.id))
			}
			def := "NO"
			if i == 0 {
				def = "YES"
			}
			fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"%s\",DEFAULT=%s,AUTOSELECT=YES", name, def)
			if l.lang != "" {
				fmt.Fprintf(&b, ",LANGUAGE=\"%s\"", l.lang)
			}
			if r.channels > 0 {
				fmt.Fprintf(&b, ",CHANNELS=\"%d\"", r.channels)
			}
			fmt.Fprintf(&b, ",URI=\"%s\"\n", r.name+".m3u8"+q)
			if !contains(audioCodecs, r.codec) {
				audioCodecs = append(audioCodecs, r.codec)
			}
			audioPeak = max(audioPeak, m.bitrateLocked(r))
		}
	}
	for _, r := range videos {
		codecs := append([]string{r.codec}, audioCodecs...)
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=\"%s\",RESOLUTION=%dx%d", m.bitrateLocked(r)+audioPeak, strings.Join(codecs, ","), r.width, r.height)
		if len(audios) > 0 {
			b.WriteString(",AUDIO=\"audio\"")
		}
		b.WriteString("\n" + r.name + ".m3u8" + q + "\n")
	}
	if len(videos) == 0 {
		for _, r := range audios {
			fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=\"%s\"\n%s.m3u8%s\n", m.bitrateLocked(r), r.codec, r.name, q)
		}
	}
	return []byte(b.String())
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// bitrateLocked is a rendition's BANDWIDTH: the highest bit rate of its
// complete segments, or of what it holds so far, rounded up by a tenth for
// the fragment headers players also fetch.
func (m *muxer) bitrateLocked(r *rendition) int64 {
	bw := r.peak
	if bw == 0 {
		if cur := r.cur(); cur != nil && len(cur.parts) > 0 {
			last := cur.parts[len(cur.parts)-1]
			if d := last.start + last.dur - cur.start; d > 0 {
				bw = int64(cur.bytes) * 8000 / d
			}
		}
	}
	return max(bw+bw/10, 1000)
}

// mediaLocked writes r's media playlist (RFC 8216bis §4.4.3, §4.4.4, and
// the low-latency tags of §4.4.3.7 to §4.4.5.3).
func (m *muxer) mediaLocked(r *rendition, q string) []byte {
	var b strings.Builder
	partTarget := m.srv.o.Part.Milliseconds()
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", m.target)
	// PART-HOLD-BACK: at least twice the part target (§4.4.3.8); three
	// times, as recommended.
	fmt.Fprintf(&b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%s\n", seconds(3*partTarget))
	fmt.Fprintf(&b, "#EXT-X-PART-INF:PART-TARGET=%s\n", seconds(partTarget))
	segs := r.segs
	var first uint64
	if len(segs) > 0 {
		first = segs[0].msn
	}
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", m.initURI(r, q))
	complete := 0
	for _, s := range segs {
		if s.done {
			complete++
		}
	}
	for i, s := range segs {
		if !s.done && len(s.parts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.pdt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		if i >= complete-partListSegments {
			for j, p := range s.parts {
				fmt.Fprintf(&b, "#EXT-X-PART:DURATION=%s,URI=\"%s\"", seconds(p.dur), m.partURI(r, s.msn, j, q))
				if p.independent {
					b.WriteString(",INDEPENDENT=YES")
				}
				b.WriteByte('\n')
			}
		}
		if s.done {
			fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", seconds(s.dur), m.segmentURI(r, s.msn, q))
		}
	}
	if m.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	} else if cur := r.cur(); cur != nil {
		// The part being filled: a player asks for it now and gets it as
		// soon as it is complete (§4.4.5.3).
		fmt.Fprintf(&b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%s\"\n", m.partURI(r, cur.msn, len(cur.parts), q))
	}
	return []byte(b.String())
}

// position is the last part r published: the segment and part index; ok
// is false before the first.
func (r *rendition) position() (msn uint64, part int, ok bool) {
	for i := len(r.segs) - 1; i >= 0; i-- {
		s := r.segs[i]
		if len(s.parts) > 0 {
			return s.msn, len(s.parts) - 1, true
		}
	}
	return 0, 0, false
}

// lastComplete is the msn of r's last complete segment; ok is false before
// the first.
func (r *rendition) lastComplete() (uint64, bool) {
	for i := len(r.segs) - 1; i >= 0; i-- {
		if r.segs[i].done {
			return r.segs[i].msn, true
		}
	}
	return 0, false
}

// heldLocked counts what r holds.
func (r *rendition) heldLocked() (segments, parts, bytes int) {
	for _, s := range r.segs {
		if s.done {
			segments++
		}
		parts += len(s.parts)
	}
	return segments, parts, r.bytes + len(r.init)
}

// blockTimeout is how long a blocking request may wait: three target
// durations (RFC 8216bis §6.2.5.2).
func (m *muxer) blockTimeoutLocked() time.Duration {
	return 3 * time.Duration(m.target) * time.Second
}
