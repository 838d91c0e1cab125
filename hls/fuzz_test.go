package hls

import (
	"net/url"
	"strconv"
	"testing"
)

// Request names and directives from a peer: no panic, and what parses
// names itself again.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"index.m3u8", "v0.m3u8", "a12.m3u8", "v0-1u1.mp4", "v0-1u1-12.m4s", "v0-1u1-12.3.m4s",
		"v0-1u1-012.m4s", "v256.m3u8", "x0.m3u8", "v0-1u1-1.1.1.m4s", "v0--1.m4s", "v0-a-18446744073709551616.m4s",
	} {
		f.Add(s, "_HLS_msn=3&_HLS_part=1&key=k")
	}
	f.Add("v0.m3u8", "_HLS_part=1")
	f.Add("v0.m3u8", "_HLS_msn=99999999999999999999")
	f.Add("v0.m3u8", "_HLS_msn=1&_HLS_msn=2")
	f.Fuzz(func(t *testing.T, res, query string) {
		r, ok := parseResource(res)
		if ok {
			var again string
			switch r.kind {
			case 'M':
				again = "index.m3u8"
			case 'p':
				again = r.rend + ".m3u8"
			case 'i':
				again = r.rend + "-" + r.inst + ".mp4"
			case 's':
				again = r.rend + "-" + r.inst + "-" + strconv.FormatUint(r.msn, 10) + ".m4s"
			case 'P':
				again = r.rend + "-" + r.inst + "-" + strconv.FormatUint(r.msn, 10) + "." + strconv.Itoa(r.part) + ".m4s"
			}
			if r2, ok := parseResource(again); !ok || r2 != r {
				t.Fatalf("%q parses as %+v, %q as %+v", res, r, again, r2)
			}
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		b, err := parseBlock(q)
		if err != nil {
			return
		}
		for k := range q {
			if len(k) >= 5 && k[:5] == "_HLS_" {
				t.Fatalf("%q left %q in the viewer's query", query, k)
			}
		}
		if b.hasPart && !b.hasMSN {
			t.Fatalf("%q: a part without a segment", query)
		}
	})
}
