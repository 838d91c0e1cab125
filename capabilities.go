package rtmp

import (
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
)

// CapsEx is the Enhanced RTMP v2 capsEx bit set of the connect command
// ("Enhancing NetConnection connect Command", enum CapsExMask).
type CapsEx uint32

// CapsEx bits.
const (
	CapsReconnect           CapsEx = 0x01
	CapsMultitrack          CapsEx = 0x02
	CapsModEx               CapsEx = 0x04
	CapsTimestampNanoOffset CapsEx = 0x08
)

// FourCCInfo is a set of FourCcInfoMask flags for one codec.
type FourCCInfo uint32

// FourCcInfoMask flags.
const (
	CanDecode  FourCCInfo = 0x01
	CanEncode  FourCCInfo = 0x02
	CanForward FourCCInfo = 0x04
)

// FourCCEntry is one entry of a videoFourCcInfoMap or audioFourCcInfoMap:
// a FourCC such as "hvc1", or the wildcard "*".
type FourCCEntry struct {
	FourCC string
	Info   FourCCInfo
}

// Video function flags of the connect command's videoFunction property
// (Enhanced RTMP v2, "Flag values for the videoFunction property").
const (
	VideoFunctionClientSeek     = 0x0001
	VideoFunctionClientHDR      = 0x0002
	VideoFunctionPacketMetadata = 0x0004
	VideoFunctionLargeScaleTile = 0x0008
)

// Capabilities are what a peer declares in its connect command object (and
// a server in its connect _result): the Enhanced RTMP fields and the object
// encoding. The zero value is a legacy peer.
type Capabilities struct {
	// FourCCList is the fourCcList property, as sent ("*" allowed).
	FourCCList []string
	// VideoFourCCInfo and AudioFourCCInfo are the info maps, in order.
	VideoFourCCInfo []FourCCEntry
	AudioFourCCInfo []FourCCEntry
	CapsEx          CapsEx
	// VideoFunction holds the videoFunction flags (legacy and Enhanced).
	VideoFunction uint32
	// ObjectEncoding is 0 (AMF0) or 3 (AMF0 and AMF3).
	ObjectEncoding float64
	// Enhanced reports that at least one Enhanced RTMP field was present.
	Enhanced bool
}

// ParseCapabilities reads the capability fields of a connect command object
// (or of a _result properties object). Fields of the wrong type are ignored.
func ParseCapabilities(obj amf0.Object) Capabilities {
	var c Capabilities
	if n, ok := obj.GetNumber("objectEncoding"); ok {
		c.ObjectEncoding = n
	}
	if n, ok := obj.GetNumber("videoFunction"); ok && n >= 0 && n <= 0xFFFFFFFF {
		c.VideoFunction = uint32(n)
	}
	if v, ok := obj.Get("fourCcList"); ok {
		if arr, ok := amf0.Resolve(v).(amf0.StrictArray); ok {
			c.Enhanced = true
			for _, e := range arr {
				if s, ok := amf0.Resolve(e).(string); ok {
					c.FourCCList = append(c.FourCCList, s)
				}
			}
		}
	}
	if n, ok := obj.GetNumber("capsEx"); ok && n >= 0 && n <= 0xFFFFFFFF {
		c.Enhanced = true
		c.CapsEx = CapsEx(n)
	}
	for _, m := range []struct {
		key string
		dst *[]FourCCEntry
	}{{"videoFourCcInfoMap", &c.VideoFourCCInfo}, {"audioFourCcInfoMap", &c.AudioFourCCInfo}} {
		v, ok := obj.Get(m.key)
		if !ok {
			continue
		}
		var props []amf0.Property
		switch o := amf0.Resolve(v).(type) {
		case amf0.Object:
			props = o
		case amf0.ECMAArray:
			props = o.Props
		default:
			continue
		}
		c.Enhanced = true
		for _, p := range props {
			if n, ok := amf0.Resolve(p.Value).(float64); ok && n >= 0 && n <= 0xFFFFFFFF {
				*m.dst = append(*m.dst, FourCCEntry{FourCC: p.Key, Info: FourCCInfo(n)})
			}
		}
	}
	return c
}

// AppendTo adds the capability fields to a connect command object or
// _result properties object and returns it. Empty fields are left out.
func (c Capabilities) AppendTo(obj amf0.Object) amf0.Object {
	if len(c.FourCCList) > 0 {
		arr := make(amf0.StrictArray, len(c.FourCCList))
		for i, s := range c.FourCCList {
			arr[i] = s
		}
		obj.Set("fourCcList", arr)
	}
	for _, m := range []struct {
		key string
		src []FourCCEntry
	}{{"videoFourCcInfoMap", c.VideoFourCCInfo}, {"audioFourCcInfoMap", c.AudioFourCCInfo}} {
		if len(m.src) == 0 {
			continue
		}
		o := make(amf0.Object, len(m.src))
		for i, e := range m.src {
			o[i] = amf0.Property{Key: e.FourCC, Value: float64(e.Info)}
		}
		obj.Set(m.key, o)
	}
	if c.CapsEx != 0 {
		obj.Set("capsEx", float64(c.CapsEx))
	}
	return obj
}

// info returns the flags the peer declares for a FourCC in one info map: the
// wildcard "*" overrides the specific entry (Enhanced RTMP v2: "When this
// wildcard key exists, it overrides the flags set on properties for specific
// codecs"). found is false when the map names neither.
func info(m []FourCCEntry, f string) (fl FourCCInfo, found bool) {
	for _, e := range m {
		if e.FourCC == flv.FourCCWildcard {
			return e.Info, true
		}
	}
	for _, e := range m {
		if e.FourCC == f {
			fl, found = e.Info, true
		}
	}
	return fl, found
}

// takes reports whether a peer can receive codec f: it decodes or forwards
// it per the info map, or lists it (or "*") in fourCcList. Servers should
// read both (the spec recommends it, for clients that have not moved on).
func (c Capabilities) takes(m []FourCCEntry, f flv.FourCC) bool {
	if fl, ok := info(m, f.String()); ok && fl&(CanDecode|CanForward) != 0 {
		return true
	}
	for _, s := range c.FourCCList {
		if s == flv.FourCCWildcard || s == f.String() {
			return true
		}
	}
	return false
}

// CanReceiveVideo reports whether the peer declared it can take video of
// codec f over Enhanced RTMP.
func (c Capabilities) CanReceiveVideo(f flv.FourCC) bool { return c.takes(c.VideoFourCCInfo, f) }

// CanReceiveAudio reports whether the peer declared it can take audio of
// codec f over Enhanced RTMP.
func (c Capabilities) CanReceiveAudio(f flv.FourCC) bool { return c.takes(c.AudioFourCCInfo, f) }

// Multitrack, ModEx, Reconnect and NanoOffset report the capsEx bits.
func (c Capabilities) Multitrack() bool { return c.CapsEx&CapsMultitrack != 0 }
func (c Capabilities) ModEx() bool      { return c.CapsEx&CapsModEx != 0 }
func (c Capabilities) Reconnect() bool  { return c.CapsEx&CapsReconnect != 0 }
func (c Capabilities) NanoOffset() bool { return c.CapsEx&CapsTimestampNanoOffset != 0 }

// AMF3 reports objectEncoding 3.
func (c Capabilities) AMF3() bool { return c.ObjectEncoding == 3 }
