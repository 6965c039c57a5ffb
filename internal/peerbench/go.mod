module github.com/redox-hwtest/redox-hwtest/internal/peerbench

go 1.26.0

require (
	github.com/Netflix/go-expect v0.0.0-20220104043353-73e0943537d2
	github.com/google/goexpect v0.0.0-20210430020637-ab937bf7fd6f
	github.com/redox-hwtest/redox-hwtest v0.0.0
)

require (
	github.com/creack/pty v1.1.17 // indirect
	github.com/golang/protobuf v1.3.3 // indirect
	github.com/google/goterm v0.0.0-20190703233501-fc88cf888a3f // indirect
	golang.org/x/crypto v0.0.0-20200728195943-123391ffb6de // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/genproto v0.0.0-20190819201941-24fa4b261c55 // indirect
	google.golang.org/grpc v1.31.0 // indirect
)

replace github.com/redox-hwtest/redox-hwtest => ../..
