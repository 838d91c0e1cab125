package flv

import (
	"fmt"

	"github.com/ertmp/rtmp/amf0"
)

// ColorInfo is the HDR "colorInfo" object that a VideoPacketType Metadata
// packet carries (Enhanced RTMP v2, "Metadata Frame"). A nil section was
// absent. Numbers are kept as AMF numbers (float64).
//
// A ColorInfo with no section and nothing unknown is a reset: "to reset to
// the original color state", a publisher sends colorInfo with the value
// Undefined (recommended) or an empty object; both parse to it (IsReset),
// and Append writes Undefined for it.
type ColorInfo struct {
	ColorConfig *ColorConfig
	HdrCll      *HdrCll
	HdrMdcv     *HdrMdcv
	// Unknown keeps other properties of colorInfo, in order.
	Unknown []amf0.Property
}

// ColorConfig: bit depth and the ISO/IEC 23091-4 / ITU-T H.273 indices.
type ColorConfig struct {
	BitDepth                float64
	ColorPrimaries          float64
	TransferCharacteristics float64
	MatrixCoefficients      float64
}

// HdrCll is the content light level (cd/m2).
type HdrCll struct {
	MaxFall float64
	MaxCLL  float64
}

// HdrMdcv is the mastering display colour volume (SMPTE ST 2086).
type HdrMdcv struct {
	RedX, RedY, GreenX, GreenY, BlueX, BlueY float64
	WhitePointX, WhitePointY                 float64
	MaxLuminance, MinLuminance               float64
}

type numRef struct {
	key string
	p   *float64
}

func (c *ColorConfig) refs() []numRef {
	return []numRef{{"bitDepth", &c.BitDepth}, {"colorPrimaries", &c.ColorPrimaries},
		{"transferCharacteristics", &c.TransferCharacteristics}, {"matrixCoefficients", &c.MatrixCoefficients}}
}

func (h *HdrCll) refs() []numRef { return []numRef{{"maxFall", &h.MaxFall}, {"maxCLL", &h.MaxCLL}} }

func (h *HdrMdcv) refs() []numRef {
	return []numRef{{"redX", &h.RedX}, {"redY", &h.RedY}, {"greenX", &h.GreenX}, {"greenY", &h.GreenY},
		{"blueX", &h.BlueX}, {"blueY", &h.BlueY}, {"whitePointX", &h.WhitePointX}, {"whitePointY", &h.WhitePointY},
		{"maxLuminance", &h.MaxLuminance}, {"minLuminance", &h.MinLuminance}}
}

func fillNumbers(props []amf0.Property, refs []numRef) {
	for _, p := range props {
		for _, r := range refs {
			if r.key == p.Key {
				if n, ok := asNumber(p.Value); ok {
					*r.p = n
				}
			}
		}
	}
}

func numbersObject(refs []numRef) amf0.Object {
	o := make(amf0.Object, len(refs))
	for i, r := range refs {
		o[i] = amf0.Property{Key: r.key, Value: *r.p}
	}
	return o
}

// ParseColorInfo decodes the body of a video Metadata packet (the Data of a
// VideoTag whose PacketType is VideoMetadata): AMF0 ["colorInfo", object].
func ParseColorInfo(data []byte) (*ColorInfo, error) {
	s, err := ParseScript(data)
	if err != nil {
		return nil, err
	}
	if s.Name != ColorInfoKey {
		return nil, fmt.Errorf("%w: video metadata %q is not colorInfo", ErrScript, s.Name)
	}
	if len(s.Args) == 0 {
		return &ColorInfo{}, nil // a reset with the value left out
	}
	switch s.Args[0].(type) {
	case amf0.Undefined, nil:
		return &ColorInfo{}, nil // the recommended reset
	}
	props, ok := properties(s.Args[0])
	if !ok {
		return nil, fmt.Errorf("%w: colorInfo is a %T, not an object", ErrScript, s.Args[0])
	}
	c := &ColorInfo{}
	for _, p := range props {
		sub, ok := properties(p.Value)
		switch {
		case p.Key == "colorConfig" && ok:
			c.ColorConfig = &ColorConfig{}
			fillNumbers(sub, c.ColorConfig.refs())
		case p.Key == "hdrCll" && ok:
			c.HdrCll = &HdrCll{}
			fillNumbers(sub, c.HdrCll.refs())
		case p.Key == "hdrMdcv" && ok:
			c.HdrMdcv = &HdrMdcv{}
			fillNumbers(sub, c.HdrMdcv.refs())
		default:
			c.Unknown = append(c.Unknown, p)
		}
	}
	return c, nil
}

// IsReset reports whether c resets the color state: it has no section and
// nothing unknown.
func (c *ColorInfo) IsReset() bool {
	return c.ColorConfig == nil && c.HdrCll == nil && c.HdrMdcv == nil && len(c.Unknown) == 0
}

// Append encodes the packet body: AMF0 "colorInfo" and the object, or
// Undefined for a reset (IsReset).
func (c *ColorInfo) Append(dst []byte) ([]byte, error) {
	if c.IsReset() {
		return ScriptData{Name: ColorInfoKey, Args: []amf0.Value{amf0.Undefined{}}}.Append(dst)
	}
	var o amf0.Object
	if c.ColorConfig != nil {
		o = append(o, amf0.Property{Key: "colorConfig", Value: numbersObject(c.ColorConfig.refs())})
	}
	if c.HdrCll != nil {
		o = append(o, amf0.Property{Key: "hdrCll", Value: numbersObject(c.HdrCll.refs())})
	}
	if c.HdrMdcv != nil {
		o = append(o, amf0.Property{Key: "hdrMdcv", Value: numbersObject(c.HdrMdcv.refs())})
	}
	o = append(o, c.Unknown...)
	return ScriptData{Name: ColorInfoKey, Args: []amf0.Value{o}}.Append(dst)
}
