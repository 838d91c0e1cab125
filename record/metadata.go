package record

import (
	"bytes"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
)

// Property names patched when a file closes (FLV 10.1 §E.5, onMetaData).
const (
	propDuration = "duration"
	propFileSize = "filesize"
)

// metaBody encodes the onMetaData a file starts with: duration and
// filesize first, as zero placeholders that close patches in place, then
// the publisher's properties (without its own duration and filesize).
// It returns the body and the offsets of the two numbers in it, or zero
// offsets when they cannot be found (the file is then not patched).
func metaBody(props amf0.Object) (body []byte, durAt, sizeAt int) {
	all := make([]amf0.Property, 0, len(props)+2)
	all = append(all, amf0.Property{Key: propDuration, Value: 0.0}, amf0.Property{Key: propFileSize, Value: 0.0})
	for _, p := range props {
		if p.Key != propDuration && p.Key != propFileSize {
			all = append(all, p)
		}
	}
	body, err := encodeMeta(all)
	if err != nil {
		// A property that does not encode: the placeholders alone.
		all = all[:2]
		if body, err = encodeMeta(all); err != nil {
			return nil, 0, 0
		}
	}
	// AMF0 §2.10: name string (3+10 bytes), ECMA array marker and count
	// (5), then each property: UTF-8 key (2+len) and value (a number is
	// marker 0x00 and 8 bytes).
	durAt = 3 + len(flv.OnMetaData) + 5 + 2 + len(propDuration) + 1
	sizeAt = durAt + 8 + 2 + len(propFileSize) + 1
	if !isNumberProp(body, durAt, propDuration) || !isNumberProp(body, sizeAt, propFileSize) {
		return body, 0, 0
	}
	return body, durAt, sizeAt
}

func encodeMeta(props []amf0.Property) ([]byte, error) {
	b, err := amf0.Append(nil, flv.OnMetaData)
	if err != nil {
		return nil, err
	}
	return amf0.Append(b, amf0.NewECMAArray(props...))
}

// isNumberProp checks that the number at off in b is the value of key.
func isNumberProp(b []byte, off int, key string) bool {
	start := off - 1 - len(key) - 2
	if start < 0 || off+8 > len(b) {
		return false
	}
	want := append([]byte{0, byte(len(key))}, key...)
	return bytes.Equal(b[start:off-1], want) && b[off-1] == byte(amf0.MarkerNumber)
}
