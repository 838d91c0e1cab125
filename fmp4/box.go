package fmp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// BoxType is the four-character type of a box, big-endian in a UI32 as it
// is on the wire (ISO/IEC 14496-12 §4.2).
type BoxType uint32

// MakeBoxType returns the type of a four-byte name, and false if s is not
// exactly four bytes long.
func MakeBoxType(s string) (BoxType, bool) {
	if len(s) != 4 {
		return 0, false
	}
	return BoxType(s[0])<<24 | BoxType(s[1])<<16 | BoxType(s[2])<<8 | BoxType(s[3]), true
}

// String returns the four characters, or a hex form when a byte is not
// printable ASCII.
func (t BoxType) String() string {
	b := [4]byte{byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "0x" + strconv.FormatUint(uint64(t), 16)
		}
	}
	return string(b[:])
}

func bt(a, b, c, d byte) BoxType {
	return BoxType(a)<<24 | BoxType(b)<<16 | BoxType(c)<<8 | BoxType(d)
}

// Box types this package writes or descends into.
var (
	typeFtyp = bt('f', 't', 'y', 'p')
	typeMoov = bt('m', 'o', 'o', 'v')
	typeMvhd = bt('m', 'v', 'h', 'd')
	typeTrak = bt('t', 'r', 'a', 'k')
	typeTkhd = bt('t', 'k', 'h', 'd')
	typeEdts = bt('e', 'd', 't', 's')
	typeMdia = bt('m', 'd', 'i', 'a')
	typeMdhd = bt('m', 'd', 'h', 'd')
	typeHdlr = bt('h', 'd', 'l', 'r')
	typeMinf = bt('m', 'i', 'n', 'f')
	typeVmhd = bt('v', 'm', 'h', 'd')
	typeSmhd = bt('s', 'm', 'h', 'd')
	typeDinf = bt('d', 'i', 'n', 'f')
	typeDref = bt('d', 'r', 'e', 'f')
	typeURL  = bt('u', 'r', 'l', ' ')
	typeStbl = bt('s', 't', 'b', 'l')
	typeStsd = bt('s', 't', 's', 'd')
	typeStts = bt('s', 't', 't', 's')
	typeStsc = bt('s', 't', 's', 'c')
	typeStsz = bt('s', 't', 's', 'z')
	typeStco = bt('s', 't', 'c', 'o')
	typeMvex = bt('m', 'v', 'e', 'x')
	typeTrex = bt('t', 'r', 'e', 'x')
	typeUdta = bt('u', 'd', 't', 'a')
	typeMoof = bt('m', 'o', 'o', 'f')
	typeMfhd = bt('m', 'f', 'h', 'd')
	typeTraf = bt('t', 'r', 'a', 'f')
	typeTfhd = bt('t', 'f', 'h', 'd')
	typeTfdt = bt('t', 'f', 'd', 't')
	typeTrun = bt('t', 'r', 'u', 'n')
	typeMdat = bt('m', 'd', 'a', 't')
	typeMfra = bt('m', 'f', 'r', 'a')

	typeAvc1 = bt('a', 'v', 'c', '1')
	typeAvc3 = bt('a', 'v', 'c', '3')
	typeAvcC = bt('a', 'v', 'c', 'C')
	typeHvc1 = bt('h', 'v', 'c', '1')
	typeHev1 = bt('h', 'e', 'v', '1')
	typeHvcC = bt('h', 'v', 'c', 'C')
	typeAv01 = bt('a', 'v', '0', '1')
	typeAv1C = bt('a', 'v', '1', 'C')
	typeVp09 = bt('v', 'p', '0', '9')
	typeVp08 = bt('v', 'p', '0', '8')
	typeVpcC = bt('v', 'p', 'c', 'C')
	typeMp4a = bt('m', 'p', '4', 'a')
	typeEsds = bt('e', 's', 'd', 's')
	typeOpus = bt('O', 'p', 'u', 's')
	typeDOps = bt('d', 'O', 'p', 's')
	typeFLaC = bt('f', 'L', 'a', 'C')
	typeDfLa = bt('d', 'f', 'L', 'a')
	typeAc3  = bt('a', 'c', '-', '3')
	typeDac3 = bt('d', 'a', 'c', '3')
	typeEc3  = bt('e', 'c', '-', '3')
	typeDec3 = bt('d', 'e', 'c', '3')
)

// StartBox appends the header of a box of type typ with a zero size, and
// returns the longer buffer and the offset of the box in it. Append the
// body, then call EndBox with that offset to fill the size in:
//
//	b, at := fmp4.StartBox(b, typ)
//	b = append(b, body...)
//	fmp4.EndBox(b, at)
//
// A box written this way is smaller than 4 GiB (it has no largesize).
func StartBox(dst []byte, typ BoxType) ([]byte, int) {
	at := len(dst)
	return binary.BigEndian.AppendUint32(append(dst, 0, 0, 0, 0), uint32(typ)), at
}

// StartFullBox is StartBox for a FullBox: the header is followed by the
// version and the 24-bit flags (ISO/IEC 14496-12 §4.2).
func StartFullBox(dst []byte, typ BoxType, version uint8, flags uint32) ([]byte, int) {
	dst, at := StartBox(dst, typ)
	return binary.BigEndian.AppendUint32(dst, uint32(version)<<24|flags&0xffffff), at
}

// EndBox sets the size of the box that StartBox began at offset at to
// everything appended since.
func EndBox(b []byte, at int) {
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at))
}

// appendBox appends a whole box with the given body.
func appendBox(dst []byte, typ BoxType, body []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+len(body)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(typ))
	return append(dst, body...)
}

// MaxDepth bounds how deep ParseBoxes descends into nested boxes.
const MaxDepth = 16

// Box is a box read by ParseBoxes. Its slices alias the parsed input.
//
//	size(32) type(32) [largesize(64) if size is 1] body
//
// A size of 0 means the box runs to the end of its container (or of the
// input). The body of a container box is Head (the fixed fields before the
// child boxes: empty for moov or trak, version, flags and entry_count for
// stsd and dref, the SampleEntry fields for a sample entry) followed by
// Children. For any other box, Head is the whole body and Children is nil.
type Box struct {
	Type BoxType
	// Head is the body, or for a container the bytes before its children.
	Head []byte
	// Children are the boxes inside a container.
	Children []Box
	// Body is the whole body, as read.
	Body []byte
}

// containerHead returns how many bytes of fixed fields open the body of a
// box of type typ inside parent before its child boxes, and false for a box
// that has no children (ISO/IEC 14496-12 §8; sample entries §8.5.2.2,
// §12.1.3, §12.2.3).
func containerHead(typ, parent BoxType) (int, bool) {
	switch typ {
	case typeMoov, typeTrak, typeEdts, typeMdia, typeMinf, typeDinf, typeStbl,
		typeMvex, typeMoof, typeTraf, typeMfra, typeUdta:
		return 0, true
	case typeStsd, typeDref:
		return 8, true // version, flags, entry_count
	}
	if parent != typeStsd {
		return 0, false
	}
	switch typ {
	case typeAvc1, typeAvc3, typeHvc1, typeHev1, typeAv01, typeVp09, typeVp08:
		return visualEntryHead, true
	case typeMp4a, typeOpus, typeFLaC, typeAc3, typeEc3:
		return audioEntryHead, true
	}
	return 0, false
}

// ParseBoxes reads the sequence of boxes that b holds, descending into the
// containers this package knows (moov, trak, mdia, minf, stbl, stsd and its
// sample entries, dinf, dref, mvex, moof, traf, edts, udta, mfra) at most
// MaxDepth levels. The result aliases b. A truncated box gives an error
// wrapping io.ErrUnexpectedEOF; a size smaller than its header, a child that
// does not fill its container exactly, or nesting deeper than MaxDepth, one
// wrapping ErrInvalid. Every Box takes at least 8 bytes of input, so the
// number of boxes is bounded by len(b)/8.
func ParseBoxes(b []byte) ([]Box, error) {
	return parseBoxes(b, 0, 0, 0)
}

func parseBoxes(b []byte, parent BoxType, depth int, base int) ([]Box, error) {
	if depth >= MaxDepth {
		return nil, fmt.Errorf("fmp4: boxes nested deeper than %d at offset %d: %w", MaxDepth, base, ErrInvalid)
	}
	var out []Box
	for off := 0; off < len(b); {
		box, n, err := parseBox(b[off:], parent, depth, base+off)
		if err != nil {
			return out, err
		}
		out = append(out, box)
		off += n
	}
	return out, nil
}

// parseBox reads one box at the start of b and returns it and its size.
func parseBox(b []byte, parent BoxType, depth, at int) (Box, int, error) {
	if len(b) < 8 {
		return Box{}, 0, fmt.Errorf("fmp4: box header at offset %d: %w", at, io.ErrUnexpectedEOF)
	}
	size := uint64(binary.BigEndian.Uint32(b))
	typ := BoxType(binary.BigEndian.Uint32(b[4:]))
	hdr := uint64(8)
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return Box{}, 0, fmt.Errorf("fmp4: %v largesize at offset %d: %w", typ, at, io.ErrUnexpectedEOF)
		}
		size, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < hdr {
		return Box{}, 0, fmt.Errorf("fmp4: %v at offset %d: size %d is smaller than its header: %w", typ, at, size, ErrInvalid)
	}
	if size > uint64(len(b)) {
		return Box{}, 0, fmt.Errorf("fmp4: %v at offset %d: size %d, %d bytes left: %w", typ, at, size, len(b), io.ErrUnexpectedEOF)
	}
	body := b[hdr:size:size]
	box := Box{Type: typ, Head: body, Body: body}
	if head, ok := containerHead(typ, parent); ok {
		if len(body) < head {
			return Box{}, 0, fmt.Errorf("fmp4: %v at offset %d: %d-byte body, %d fixed bytes: %w", typ, at, len(body), head, io.ErrUnexpectedEOF)
		}
		kids, err := parseBoxes(body[head:], typ, depth+1, at+int(hdr)+head)
		if err != nil {
			return Box{}, 0, err
		}
		box.Head, box.Children = body[:head:head], kids
		if box.Children == nil {
			box.Children = []Box{}
		}
	}
	return box, int(size), nil
}

// IsContainer reports whether ParseBoxes read b's body as child boxes.
func (b *Box) IsContainer() bool { return b.Children != nil }

// Child returns the first child of type typ, or nil.
func (b *Box) Child(typ BoxType) *Box {
	for i := range b.Children {
		if b.Children[i].Type == typ {
			return &b.Children[i]
		}
	}
	return nil
}

// Find follows a path of box types down from b's children, such as
// "trak/mdia/minf/stbl/stsd", and returns the first match, or nil.
func (b *Box) Find(path string) *Box {
	cur := b
	for len(path) > 0 {
		name := path
		if i := indexSlash(path); i >= 0 {
			name, path = path[:i], path[i+1:]
		} else {
			path = ""
		}
		typ, ok := MakeBoxType(name)
		if !ok {
			return nil
		}
		if cur = cur.Child(typ); cur == nil {
			return nil
		}
	}
	return cur
}

func indexSlash(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// Size returns the number of bytes Append writes for b.
func (b *Box) Size() int {
	n := 8 + len(b.Head)
	if b.Children == nil {
		return n
	}
	for i := range b.Children {
		n += b.Children[i].Size()
	}
	return n
}

// Append appends b with a 32-bit size: Head and then each child re-encoded,
// or Head alone for a box that is not a container. A box read from the
// normal form (32-bit sizes, no size 0) encodes back to the same bytes.
func (b *Box) Append(dst []byte) ([]byte, error) {
	if n := b.Size(); uint64(n) > 0xffffffff {
		return dst, fmt.Errorf("fmp4: %v of %d bytes needs a largesize: %w", b.Type, n, ErrTooLarge)
	}
	dst, at := StartBox(dst, b.Type)
	dst = append(dst, b.Head...)
	for i := range b.Children {
		var err error
		if dst, err = b.Children[i].Append(dst); err != nil {
			return dst, err
		}
	}
	EndBox(dst, at)
	return dst, nil
}
