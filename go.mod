module github.com/ertmp/rtmp

go 1.24
