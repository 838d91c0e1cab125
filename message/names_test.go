package message

import "testing"

// The command names of §7.2 and of FMLE/FMS-era peers, as they are spelled
// on the wire (a reply to any other spelling is a reply to a call).
func TestReservedNames(t *testing.T) {
	reserved := []string{
		"connect", "call", "close", "createStream", "_result", "_error", "onStatus",
		"play", "play2", "deleteStream", "closeStream", "receiveAudio", "receiveVideo",
		"publish", "seek", "pause", "releaseStream", "FCPublish", "FCUnpublish",
		"FCSubscribe", "FCUnsubscribe", "onFCPublish", "onFCUnpublish", "onFCSubscribe",
		"onBWCheck", "onBWDone", "_checkbw", "getStreamLength",
	}
	for _, n := range reserved {
		if !IsReservedName(n) {
			t.Errorf("IsReservedName(%q) = false", n)
		}
	}
	for _, n := range []string{"", "Connect", "myProcedure", "onMetaData", "@setDataFrame", "|RtmpSampleAccess", "onPlayStatus"} {
		if IsReservedName(n) {
			t.Errorf("IsReservedName(%q) = true; data message names and calls are not command names", n)
		}
	}
	data := map[string]string{
		SetDataFrame: "@setDataFrame", ClearDataFrame: "@clearDataFrame", OnMetaData: "onMetaData",
		RtmpSampleAccess: "|RtmpSampleAccess", OnPlayStatus: "onPlayStatus", OnCuePoint: "onCuePoint",
		OnTextData: "onTextData", OnXMPData: "onXMPData",
	}
	for got, want := range data {
		if got != want {
			t.Errorf("data name %q, want %q", got, want)
		}
	}
}
