package flv

import (
	"encoding/binary"
	"fmt"
)

// AudioChannelOrder says how a MultichannelConfig describes its channels
// (Enhanced RTMP v2 enum AudioChannelOrder).
type AudioChannelOrder uint8

// Channel orders.
const (
	ChannelOrderUnspecified AudioChannelOrder = 0 // only the count is given
	ChannelOrderNative      AudioChannelOrder = 1 // AudioChannelMask flags
	ChannelOrderCustom      AudioChannelOrder = 2 // one AudioChannel per channel
)

// AudioChannel names a speaker position (Enhanced RTMP v2 enum AudioChannel).
type AudioChannel uint8

// Speaker positions. The values in between follow the spec's enum in order.
const (
	ChannelFrontLeft         AudioChannel = 0
	ChannelFrontRight        AudioChannel = 1
	ChannelFrontCenter       AudioChannel = 2
	ChannelLowFrequency1     AudioChannel = 3
	ChannelBackLeft          AudioChannel = 4
	ChannelBackRight         AudioChannel = 5
	ChannelFrontLeftCenter   AudioChannel = 6
	ChannelFrontRightCenter  AudioChannel = 7
	ChannelBackCenter        AudioChannel = 8
	ChannelSideLeft          AudioChannel = 9
	ChannelSideRight         AudioChannel = 10
	ChannelTopCenter         AudioChannel = 11
	ChannelTopFrontLeft      AudioChannel = 12
	ChannelTopFrontCenter    AudioChannel = 13
	ChannelTopFrontRight     AudioChannel = 14
	ChannelTopBackLeft       AudioChannel = 15
	ChannelTopBackCenter     AudioChannel = 16
	ChannelTopBackRight      AudioChannel = 17
	ChannelLowFrequency2     AudioChannel = 18
	ChannelTopSideLeft       AudioChannel = 19
	ChannelTopSideRight      AudioChannel = 20
	ChannelBottomFrontCenter AudioChannel = 21
	ChannelBottomFrontLeft   AudioChannel = 22
	ChannelBottomFrontRight  AudioChannel = 23
	ChannelUnused            AudioChannel = 0xFE
	ChannelUnknown           AudioChannel = 0xFF
)

// AudioChannelMask flags for ChannelOrderNative: bit n is AudioChannel n.
const (
	MaskFrontLeft   uint32 = 1 << ChannelFrontLeft
	MaskFrontRight  uint32 = 1 << ChannelFrontRight
	MaskFrontCenter uint32 = 1 << ChannelFrontCenter
	MaskLFE1        uint32 = 1 << ChannelLowFrequency1
	MaskBackLeft    uint32 = 1 << ChannelBackLeft
	MaskBackRight   uint32 = 1 << ChannelBackRight
	MaskSideLeft    uint32 = 1 << ChannelSideLeft
	MaskSideRight   uint32 = 1 << ChannelSideRight
)

// MultichannelConfig is the body of an AudioPacketType MultichannelConfig
// packet (Enhanced RTMP v2, ExAudioTagBody):
//
//	audioChannelOrder   UI8
//	channelCount        UI8
//	audioChannelMapping UI8[channelCount]  if Custom
//	audioChannelFlags   UI32               if Native
//
// Bytes after these fields (none are defined) are kept in Extra so the
// packet re-encodes exactly.
type MultichannelConfig struct {
	Order        AudioChannelOrder
	ChannelCount uint8
	Mapping      []AudioChannel // Custom only
	Flags        uint32         // Native only
	Extra        []byte
}

// Unmarshal parses the packet body b. Extra aliases b.
func (c *MultichannelConfig) Unmarshal(b []byte) error {
	*c = MultichannelConfig{}
	if len(b) < 2 {
		return errTruncated("multichannel config")
	}
	c.Order, c.ChannelCount = AudioChannelOrder(b[0]), b[1]
	b = b[2:]
	switch c.Order {
	case ChannelOrderCustom:
		if len(b) < int(c.ChannelCount) {
			return errTruncated("channel mapping")
		}
		c.Mapping = make([]AudioChannel, c.ChannelCount)
		for i := range c.Mapping {
			c.Mapping[i] = AudioChannel(b[i])
		}
		b = b[c.ChannelCount:]
	case ChannelOrderNative:
		if len(b) < 4 {
			return errTruncated("channel flags")
		}
		c.Flags = binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		c.Extra = b
	}
	return nil
}

// Append appends the packet body to dst.
func (c *MultichannelConfig) Append(dst []byte) ([]byte, error) {
	dst = append(dst, byte(c.Order), c.ChannelCount)
	switch c.Order {
	case ChannelOrderCustom:
		if len(c.Mapping) != int(c.ChannelCount) {
			return dst, fmt.Errorf("flv: channel mapping has %d entries for %d channels", len(c.Mapping), c.ChannelCount)
		}
		for _, ch := range c.Mapping {
			dst = append(dst, byte(ch))
		}
	case ChannelOrderNative:
		dst = binary.BigEndian.AppendUint32(dst, c.Flags)
	}
	return append(dst, c.Extra...), nil
}
