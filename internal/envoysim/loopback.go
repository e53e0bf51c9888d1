package envoysim

import (
	"net"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Loopback serves srv on a fresh 127.0.0.1 port over real gRPC and returns
// a client connected to it, as Envoy's gRPC client would be. stop closes
// the client and stops the server.
func Loopback(srv extprocv3.ExternalProcessorServer, opts ...grpc.ServerOption) (client extprocv3.ExternalProcessorClient, stop func(), err error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	gs := grpc.NewServer(opts...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		gs.Stop()
		return nil, nil, err
	}
	return extprocv3.NewExternalProcessorClient(conn), func() { _ = conn.Close(); gs.Stop() }, nil
}
