package message

import "github.com/ertmp/rtmp/amf0"

// Flags of the connect command object's audioCodecs property (§7.2.1.1).
const (
	SupportSndNone    = 0x0001 // raw sound, no compression
	SupportSndADPCM   = 0x0002
	SupportSndMP3     = 0x0004
	SupportSndIntel   = 0x0008 // not used
	SupportSndUnused  = 0x0010 // not used
	SupportSndNelly8  = 0x0020 // NellyMoser at 8 kHz
	SupportSndNelly   = 0x0040 // NellyMoser at 5, 11, 22 and 44 kHz
	SupportSndG711A   = 0x0080
	SupportSndG711U   = 0x0100
	SupportSndNelly16 = 0x0200 // NellyMoser at 16 kHz
	SupportSndAAC     = 0x0400
	SupportSndSpeex   = 0x0800
	SupportSndAll     = 0x0FFF
)

// Flags of the connect command object's videoCodecs property (§7.2.1.1).
const (
	SupportVidUnused    = 0x0001 // obsolete
	SupportVidJPEG      = 0x0002 // obsolete
	SupportVidSorenson  = 0x0004
	SupportVidHomebrew  = 0x0008 // screen sharing v1
	SupportVidVP6       = 0x0010
	SupportVidVP6Alpha  = 0x0020
	SupportVidHomebrewV = 0x0040 // screen sharing v2
	SupportVidH264      = 0x0080
	SupportVidAll       = 0x00FF
)

// Flags of the connect command object's videoFunction property (§7.2.1.1;
// Enhanced RTMP v2, "Flag values for the videoFunction property").
const (
	SupportVidClientSeek                    = 0x0001 // frame-accurate seeks
	SupportVidClientHDR                     = 0x0002 // HDR video, and colorInfo in VideoPacketType.Metadata
	SupportVidClientVideoPacketTypeMetadata = 0x0004 // VideoPacketType.Metadata
	SupportVidClientLargeScaleTile          = 0x0008 // AV1 large-scale tile decoding
)

// Values of the objectEncoding property (§7.2.1.1).
const (
	ObjectEncodingAMF0 = 0
	ObjectEncodingAMF3 = 3
)

// FourCCInfoMask is the capability flags of one codec in the
// videoFourCcInfoMap and audioFourCcInfoMap properties of connect (Enhanced
// RTMP v2, "Enhancing NetConnection connect Command").
type FourCCInfoMask uint32

// FourCcInfoMask flags.
const (
	FourCCCanDecode  FourCCInfoMask = 0x01
	FourCCCanEncode  FourCCInfoMask = 0x02
	FourCCCanForward FourCCInfoMask = 0x04
)

// FourCCWildcard is the FourCC key that "acts as a catch-all for any codec"
// in fourCcList and the info maps.
const FourCCWildcard = "*"

// CapsEx is the capsEx property of connect: extended capabilities (Enhanced
// RTMP v2, enum CapsExMask).
type CapsEx uint32

// CapsExMask flags.
const (
	CapsExReconnect           CapsEx = 0x01 // NetConnection.Connect.ReconnectRequest
	CapsExMultitrack          CapsEx = 0x02
	CapsExModEx               CapsEx = 0x04 // can parse the ModEx signal
	CapsExTimestampNanoOffset CapsEx = 0x08
)

// Connect is the typed view of a connect command (§7.2.1.1; Enhanced RTMP
// v2, "Enhancing NetConnection connect Command").
//
// Props holds the command object as decoded, every property in wire order,
// including those without a field here (such as FFmpeg's "type" and
// "capabilities"). The typed fields are read from it; Command writes them
// back into a copy of it: a property that still reads as its field keeps
// its place and its AMF form, a changed one is replaced in place, and a
// field that is not in Props is added, before the other properties, unless
// it has its zero value. Building a connect from scratch therefore writes
// the non-zero fields in the order below, then Props.
type Connect struct {
	TransactionID float64 // "Always set to 1."

	App            string // "app"
	FlashVer       string // "flashVer" (the spec's table writes "flashver"; both are read)
	SwfURL         string // "swfUrl"
	TcURL          string // "tcUrl"
	Fpad           bool   // "fpad": true if a proxy is used
	AudioCodecs    uint32 // "audioCodecs": SupportSnd flags
	VideoCodecs    uint32 // "videoCodecs": SupportVid flags
	VideoFunction  uint32 // "videoFunction": SupportVidClientSeek
	PageURL        string // "pageUrl"
	ObjectEncoding uint32 // "objectEncoding": ObjectEncodingAMF0 or ObjectEncodingAMF3

	// Enhanced RTMP.
	FourCCList         []string                  // "fourCcList": supported codecs, "*" for any
	VideoFourCCInfoMap map[string]FourCCInfoMask // "videoFourCcInfoMap"
	AudioFourCCInfoMap map[string]FourCCInfoMask // "audioFourCcInfoMap"
	CapsEx             CapsEx                    // "capsEx"

	Props amf0.Object  // the command object as decoded; see above
	Args  []amf0.Value // optional user arguments after the command object
}

// ParseConnect reads the typed view of a connect command. The command
// object must be an object, an ECMA array or a typed object (it is read as
// an object and written back as one). A property of the wrong AMF type
// leaves its field zero.
func ParseConnect(c Command) (Connect, error) {
	if c.Name != NameConnect {
		return Connect{}, wrongCommand(c, NameConnect)
	}
	props, ok := asObject(c.Object)
	if !ok {
		return Connect{}, fieldErr(c.Type(), "connect command object", ErrArgument)
	}
	k := Connect{
		TransactionID:  c.TransactionID,
		App:            getString(props, "app"),
		FlashVer:       getString(props, "flashVer", "flashver"),
		SwfURL:         getString(props, "swfUrl"),
		TcURL:          getString(props, "tcUrl"),
		Fpad:           getBool(props, "fpad"),
		AudioCodecs:    getUint32(props, "audioCodecs"),
		VideoCodecs:    getUint32(props, "videoCodecs"),
		VideoFunction:  getUint32(props, "videoFunction"),
		PageURL:        getString(props, "pageUrl"),
		ObjectEncoding: getUint32(props, "objectEncoding"),
		CapsEx:         CapsEx(getUint32(props, "capsEx")),
		Props:          props,
		Args:           c.Args,
	}
	if v, ok := get(props, "fourCcList"); ok {
		k.FourCCList, _ = readStrings(v)
	}
	if v, ok := get(props, "videoFourCcInfoMap"); ok {
		k.VideoFourCCInfoMap, _ = readInfoMap(v)
	}
	if v, ok := get(props, "audioFourCcInfoMap"); ok {
		k.AudioFourCCInfoMap, _ = readInfoMap(v)
	}
	return k, nil
}

// Object returns the command object: Props with the typed fields merged in
// as the type documentation says. Props is not modified.
func (k Connect) Object() amf0.Object {
	return merge(k.Props, []field{
		strField(k.App, "app"),
		strField(k.FlashVer, "flashVer", "flashver"),
		strField(k.SwfURL, "swfUrl"),
		strField(k.TcURL, "tcUrl"),
		boolField(k.Fpad, "fpad"),
		numField(k.AudioCodecs, "audioCodecs"),
		numField(k.VideoCodecs, "videoCodecs"),
		numField(k.VideoFunction, "videoFunction"),
		strField(k.PageURL, "pageUrl"),
		numField(k.ObjectEncoding, "objectEncoding"),
		listField(k.FourCCList, "fourCcList"),
		mapField(k.VideoFourCCInfoMap, "videoFourCcInfoMap"),
		mapField(k.AudioFourCCInfoMap, "audioFourCcInfoMap"),
		numField(uint32(k.CapsEx), "capsEx"),
	})
}

// Command returns the connect command: "connect", TransactionID, Object(),
// Args.
func (k Connect) Command() Command {
	return Command{Name: NameConnect, TransactionID: k.TransactionID, Object: k.Object(), Args: k.Args}
}

func wrongCommand(c Command, want string) error {
	return fieldErr(c.Type(), "command name "+quote(c.Name)+", want "+quote(want), ErrWrongCommand)
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
