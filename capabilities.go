package rtmp

import (
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// Capabilities are what a peer declares in its connect command object (and
// a server in its connect _result): the Enhanced RTMP fields and the object
// encoding, in package message's types (see message.Connect). The zero
// value is a legacy peer.
type Capabilities struct {
	// FourCCList is the fourCcList property, as sent ("*" allowed).
	FourCCList []string
	// VideoFourCCInfoMap and AudioFourCCInfoMap are the videoFourCcInfoMap
	// and audioFourCcInfoMap properties: the flags for each FourCC, or for
	// any with message.FourCCWildcard.
	VideoFourCCInfoMap map[string]message.FourCCInfoMask
	AudioFourCCInfoMap map[string]message.FourCCInfoMask
	// CapsEx is the capsEx property.
	CapsEx message.CapsEx
	// VideoFunction holds the videoFunction flags (message.SupportVid...).
	VideoFunction uint32
	// ObjectEncoding is message.ObjectEncodingAMF0 or ObjectEncodingAMF3.
	ObjectEncoding uint32
	// Enhanced reports that the peer declared an Enhanced RTMP capability: a
	// FourCC, an info map entry or a capsEx flag.
	Enhanced bool
}

// ParseCapabilities reads the capability fields of a connect command object,
// or of a connect _result's properties object, which carries the same fields
// (Enhanced RTMP v2). It reads them as message.ParseConnect does: a field of
// the wrong type is ignored.
func ParseCapabilities(obj amf0.Object) Capabilities {
	k, _ := message.ParseConnect(message.Command{Name: message.NameConnect, Object: obj})
	return capabilitiesOf(k)
}

// capabilitiesOf returns the capabilities of a parsed connect command.
func capabilitiesOf(k message.Connect) Capabilities {
	return Capabilities{
		FourCCList:         k.FourCCList,
		VideoFourCCInfoMap: k.VideoFourCCInfoMap,
		AudioFourCCInfoMap: k.AudioFourCCInfoMap,
		CapsEx:             k.CapsEx,
		VideoFunction:      k.VideoFunction,
		ObjectEncoding:     k.ObjectEncoding,
		Enhanced:           len(k.FourCCList) > 0 || len(k.VideoFourCCInfoMap) > 0 || len(k.AudioFourCCInfoMap) > 0 || k.CapsEx != 0,
	}
}

// AppendTo sets the Enhanced RTMP fields (fourCcList, the info maps,
// capsEx) in a connect command object or _result properties object, encoded
// as message.Connect encodes them, and returns it. Empty fields are left
// out; VideoFunction and ObjectEncoding are not written.
func (c Capabilities) AppendTo(obj amf0.Object) amf0.Object {
	k := message.Connect{FourCCList: c.FourCCList, VideoFourCCInfoMap: c.VideoFourCCInfoMap, AudioFourCCInfoMap: c.AudioFourCCInfoMap, CapsEx: c.CapsEx}
	for _, p := range k.Object() {
		obj.Set(p.Key, p.Value)
	}
	return obj
}

// takes reports whether a peer can receive codec f: it decodes or forwards
// it per the info map, or lists it (or "*") in fourCcList. Servers should
// read both (the spec recommends it, for clients that have not moved on).
// The wildcard entry of an info map overrides the specific one (Enhanced
// RTMP v2: "When this wildcard key exists, it overrides the flags set on
// properties for specific codecs").
func (c Capabilities) takes(m map[string]message.FourCCInfoMask, f flv.FourCC) bool {
	name := f.String()
	fl, ok := m[message.FourCCWildcard]
	if !ok {
		fl, ok = m[name]
	}
	if ok && fl&(message.FourCCCanDecode|message.FourCCCanForward) != 0 {
		return true
	}
	for _, s := range c.FourCCList {
		if s == message.FourCCWildcard || s == name {
			return true
		}
	}
	return false
}

// CanReceiveVideo reports whether the peer declared it can take video of
// codec f over Enhanced RTMP.
func (c Capabilities) CanReceiveVideo(f flv.FourCC) bool { return c.takes(c.VideoFourCCInfoMap, f) }

// CanReceiveAudio reports whether the peer declared it can take audio of
// codec f over Enhanced RTMP.
func (c Capabilities) CanReceiveAudio(f flv.FourCC) bool { return c.takes(c.AudioFourCCInfoMap, f) }

// Multitrack, ModEx, Reconnect and NanoOffset report the capsEx flags.
func (c Capabilities) Multitrack() bool { return c.CapsEx&message.CapsExMultitrack != 0 }
func (c Capabilities) ModEx() bool      { return c.CapsEx&message.CapsExModEx != 0 }
func (c Capabilities) Reconnect() bool  { return c.CapsEx&message.CapsExReconnect != 0 }
func (c Capabilities) NanoOffset() bool { return c.CapsEx&message.CapsExTimestampNanoOffset != 0 }

// AMF3 reports objectEncoding 3.
func (c Capabilities) AMF3() bool { return c.ObjectEncoding == message.ObjectEncodingAMF3 }
