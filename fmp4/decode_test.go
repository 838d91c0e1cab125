package fmp4_test

import (
	"encoding/binary"
	"testing"

	"github.com/ertmp/rtmp/fmp4"
)

// An independent reading of what AppendInit and AppendFragment write, for
// tests: the timescale of each track, and every sample of every fragment
// with its decode time, duration, flags, composition offset and bytes,
// resolved as a reader does (ISO/IEC 14496-12 §8.8.7 to §8.8.12: tfhd
// defaults over trex defaults, data offsets from the moof).

type decodedSample struct {
	track    uint32
	fragment int // index of the moof
	seq      uint32
	dts      uint64
	dur      uint32
	flags    uint32
	cto      int32
	data     []byte
}

type decoded struct {
	timescale map[uint32]uint32
	samples   []decodedSample
	fragments int
}

func (d *decoded) track(id uint32) []decodedSample {
	var out []decodedSample
	for _, s := range d.samples {
		if s.track == id {
			out = append(out, s)
		}
	}
	return out
}

func decodeFile(t testing.TB, file []byte) *decoded {
	t.Helper()
	boxes, err := fmp4.ParseBoxes(file)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	d := &decoded{timescale: map[uint32]uint32{}}
	type trex struct{ dur, size, flags uint32 }
	trexes := map[uint32]trex{}
	off := 0
	for _, b := range boxes {
		start := off
		off += b.Size()
		switch b.Type.String() {
		case "moov":
			for _, c := range b.Children {
				switch c.Type.String() {
				case "trak":
					tkhd := c.Child(boxType("tkhd"))
					mdhd := c.Find("mdia/mdhd")
					if tkhd == nil || mdhd == nil || len(tkhd.Body) < 16 || len(mdhd.Body) < 16 {
						t.Fatal("trak without tkhd or mdhd")
					}
					d.timescale[be32(tkhd.Body[12:])] = be32(mdhd.Body[12:])
				case "mvex":
					for _, x := range c.Children {
						if x.Type.String() == "trex" && len(x.Body) == 24 {
							trexes[be32(x.Body[4:])] = trex{be32(x.Body[12:]), be32(x.Body[16:]), be32(x.Body[20:])}
						}
					}
				}
			}
		case "moof":
			seq := uint32(0)
			for _, traf := range b.Children {
				if traf.Type.String() == "mfhd" {
					seq = be32(traf.Body[4:])
					continue
				}
				if traf.Type.String() != "traf" {
					continue
				}
				tfhd, tfdt := traf.Child(boxType("tfhd")), traf.Child(boxType("tfdt"))
				if tfhd == nil || tfdt == nil {
					t.Fatal("traf without tfhd or tfdt")
				}
				p := tfhd.Body
				tf := be32(p) & 0xffffff
				id := be32(p[4:])
				def, ok := trexes[id]
				if !ok {
					t.Fatalf("track %d has no trex", id)
				}
				if tf&0x020000 == 0 {
					t.Fatalf("tfhd flags %#x: not default-base-is-moof", tf)
				}
				p = p[8:]
				if tf&0x01 != 0 {
					t.Fatal("base_data_offset written")
				}
				if tf&0x02 != 0 {
					p = p[4:]
				}
				if tf&0x08 != 0 {
					def.dur, p = be32(p), p[4:]
				}
				if tf&0x10 != 0 {
					def.size, p = be32(p), p[4:]
				}
				if tf&0x20 != 0 {
					def.flags, p = be32(p), p[4:]
				}
				if len(p) != 0 {
					t.Fatalf("tfhd has %d bytes left", len(p))
				}
				if tfdt.Body[0] != 1 {
					t.Fatalf("tfdt version %d", tfdt.Body[0])
				}
				dts := binary.BigEndian.Uint64(tfdt.Body[4:])
				for _, trun := range traf.Children {
					if trun.Type.String() != "trun" {
						continue
					}
					q := trun.Body
					version, rf := q[0], be32(q)&0xffffff
					n := be32(q[4:])
					q = q[8:]
					if rf&0x01 == 0 {
						t.Fatal("trun without data_offset")
					}
					dataAt := start + int(int32(be32(q)))
					q = q[4:]
					first, hasFirst := uint32(0), rf&0x04 != 0
					if hasFirst {
						first, q = be32(q), q[4:]
					}
					for i := uint32(0); i < n; i++ {
						s := decodedSample{track: id, fragment: d.fragments, seq: seq, dts: dts, dur: def.dur, flags: def.flags}
						size := def.size
						if rf&0x100 != 0 {
							s.dur, q = be32(q), q[4:]
						}
						if rf&0x200 != 0 {
							size, q = be32(q), q[4:]
						}
						if rf&0x400 != 0 {
							s.flags, q = be32(q), q[4:]
						} else if i == 0 && hasFirst {
							s.flags = first
						}
						if rf&0x800 != 0 {
							if version == 0 {
								t.Fatal("composition offsets in a version 0 trun")
							}
							s.cto, q = int32(be32(q)), q[4:]
						}
						if dataAt+int(size) > len(file) {
							t.Fatalf("sample data at %d+%d past the end %d", dataAt, size, len(file))
						}
						s.data = file[dataAt : dataAt+int(size)]
						dataAt += int(size)
						dts += uint64(s.dur)
						d.samples = append(d.samples, s)
					}
					if len(q) != 0 {
						t.Fatalf("trun has %d bytes left", len(q))
					}
				}
			}
			d.fragments++
		}
	}
	return d
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func boxType(s string) fmp4.BoxType {
	t, ok := fmp4.MakeBoxType(s)
	if !ok {
		panic(s)
	}
	return t
}

const (
	syncFlags    = 0x02000000
	nonSyncFlags = 0x01010000
)
