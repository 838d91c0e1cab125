package cluster

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/ertmp/rtmp/live"
)

// Registry keys. NATS key-value keys are subjects of a few characters
// ([-/_=.a-zA-Z0-9], dots between non-empty tokens), while app and stream
// names may hold any byte. A stream's key is "s." and the base64url (no
// padding) of the app's length (uvarint), the app and the name; a node's
// is "n." and the base64url of its ID. Both decode back, and no two
// streams share a key.
const (
	streamPrefix = "s."
	nodePrefix   = "n."
)

// ErrBadKey: a registry key that no stream or node encodes to.
var ErrBadKey = errors.New("cluster: bad registry key")

var b64 = base64.RawURLEncoding

// streamKey is the registry key of a stream.
func streamKey(k live.Key) string {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(k.App)+len(k.Name)), uint64(len(k.App)))
	b = append(append(b, k.App...), k.Name...)
	return streamPrefix + b64.EncodeToString(b)
}

// parseStreamKey decodes a stream's registry key.
func parseStreamKey(s string) (live.Key, error) {
	enc, ok := strings.CutPrefix(s, streamPrefix)
	if !ok {
		return live.Key{}, fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	b, err := b64.DecodeString(enc)
	if err != nil {
		return live.Key{}, fmt.Errorf("%w: %q: %v", ErrBadKey, s, err)
	}
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return live.Key{}, fmt.Errorf("%w: %q: bad app length", ErrBadKey, s)
	}
	b = b[w:]
	return live.Key{App: string(b[:n]), Name: string(b[n:])}, nil
}

// nodeKey is the registry key of a node.
func nodeKey(id string) string { return nodePrefix + b64.EncodeToString([]byte(id)) }

// parseNodeKey decodes a node's registry key.
func parseNodeKey(s string) (string, error) {
	enc, ok := strings.CutPrefix(s, nodePrefix)
	if !ok || enc == "" {
		return "", fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	b, err := b64.DecodeString(enc)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadKey, s, err)
	}
	return string(b), nil
}
