package amf0_test

import (
	"fmt"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/amf3"
)

// Example reads the arguments of an RTMP connect command and answers it.
func Example() {
	payload, _ := amf0.AppendAll(nil, "connect", 1.0, amf0.Object{
		{"app", "live"},
		{"tcUrl", "rtmp://example.com/live"},
		{"objectEncoding", 0.0},
	})

	args, err := amf0.DecodeAll(payload)
	if err != nil {
		panic(err)
	}
	name, _ := args[0].(string)
	tx, _ := args[1].(float64)
	cmd, _ := args[2].(amf0.Object)
	app, _ := cmd.GetString("app")
	fmt.Println(name, tx, app)

	reply, _ := amf0.AppendAll(nil, "_result", tx,
		amf0.Object{{"fmsVer", "FMS/3,0,1,123"}, {"capabilities", 31}},
		amf0.Object{
			{"level", "status"},
			{"code", "NetConnection.Connect.Success"},
			{"objectEncoding", 0},
		})
	fmt.Println(len(reply))
	// Output:
	// connect 1 live
	// 153
}

// ExampleDecoder_DecodeAll relays metadata unchanged: decoding and encoding
// gives the same bytes, including an ECMA array count that does not match
// the properties.
func ExampleDecoder_DecodeAll() {
	in := []byte{
		0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a',
		0x08, 0x00, 0x00, 0x00, 0x05, // ECMA array, count 5
		0x00, 0x05, 'w', 'i', 'd', 't', 'h', 0x00, 0x40, 0x84, 0x00, 0, 0, 0, 0, 0, // width: 640
		0x00, 0x00, 0x09,
	}
	var d amf0.Decoder
	vs, err := d.DecodeAll(in)
	if err != nil {
		panic(err)
	}
	md := vs[1].(amf0.ECMAArray)
	width, _ := md.GetNumber("width")
	fmt.Println(vs[0], md.Count, len(md.Props), width)

	out, _ := amf0.AppendAll(nil, vs...)
	fmt.Println(string(out) == string(in))
	// Output:
	// onMetaData 5 1 640
	// true
}

// ExampleFromAMF3 reads a command object that a client sent in AMF 3 after
// the avmplus marker.
func ExampleFromAMF3() {
	in := []byte{
		0x11,             // avmplus-object-marker: an AMF 3 value follows
		0x0A, 0x0B, 0x01, // AMF 3 anonymous dynamic object
		0x07, 'a', 'p', 'p', 0x06, 0x09, 'l', 'i', 'v', 'e',
		0x01,
	}
	v, _, err := amf0.Decode(in)
	if err != nil {
		panic(err)
	}
	_, isAMF3 := v.(amf0.AMF3)
	obj := amf0.Resolve(v).(amf0.Object)
	app, _ := obj.GetString("app")
	fmt.Println(isAMF3, app)

	fmt.Printf("%#v\n", amf0.FromAMF3(&amf3.Array{Dense: []amf3.Value{int32(1), "a"}}))
	// Output:
	// true live
	// amf0.StrictArray{1, "a"}
}
