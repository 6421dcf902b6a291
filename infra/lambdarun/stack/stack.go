package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gosuslugi/phonebind/infra/lambdarun"
)

// Stack is every function running in one warm execution environment each,
// on one set of Resources: what API Gateway would route to.
type Stack struct {
	Resources *Resources
	// DynamoEndpoint is where the functions send DynamoDB calls.
	DynamoEndpoint string

	fns     []Function
	running map[string]*lambdarun.Function
	routes  map[string]*lambdarun.Function
}

// Up starts every built function (Build first) with its environment
// (Resources.Env), in parallel. dynamoEndpoint as for Resources.Env;
// output receives every function's logs (nil: kept only in their tails).
func Up(ctx context.Context, fns []Function, res *Resources, dynamoEndpoint string, output io.Writer) (*Stack, error) {
	s := &Stack{Resources: res, DynamoEndpoint: dynamoEndpoint, fns: fns, running: map[string]*lambdarun.Function{}, routes: map[string]*lambdarun.Function{}}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := StartFunction(ctx, fn, res, dynamoEndpoint, output)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", fn.Name(), err))
				return
			}
			s.running[fn.Name()] = f
			for _, rt := range fn.Routes {
				s.routes[rt.Key()] = f
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		_ = s.Close()
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// StartFunction starts one function's bootstrap with its environment.
func StartFunction(ctx context.Context, fn Function, res *Resources, dynamoEndpoint string, output io.Writer) (*lambdarun.Function, error) {
	if fn.Bootstrap == "" {
		return nil, errors.New("not built")
	}
	return lambdarun.Start(ctx, lambdarun.Options{
		Path:     fn.Bootstrap,
		Name:     fn.Name(),
		MemoryMB: fn.MemoryMB,
		Timeout:  fn.Timeout,
		Env:      res.Env(fn, dynamoEndpoint),
		Output:   output,
	})
}

// Functions are the functions, as Up was given them.
func (s *Stack) Functions() []Function { return s.fns }

// Function is the running environment of the function named name
// (Function.Name), or nil.
func (s *Stack) Function(name string) *lambdarun.Function { return s.running[name] }

// Route is the function behind an HTTP API route key, or nil.
func (s *Stack) Route(key string) *lambdarun.Function { return s.routes[key] }

// Call sends an HTTP API event to the function behind its route key and
// decodes the answer. A function error or a payload that is not an HTTP
// API response is an error; the Result is returned either way.
func (s *Stack) Call(ctx context.Context, r Request) (Response, lambdarun.Result, error) {
	f := s.routes[r.RouteKey]
	if f == nil {
		return Response{}, lambdarun.Result{}, fmt.Errorf("no function serves %q", r.RouteKey)
	}
	res, err := f.Invoke(ctx, r.JSON())
	if err != nil {
		return Response{}, res, fmt.Errorf("%s: %w", r.RouteKey, err)
	}
	if res.Error != nil {
		return Response{}, res, fmt.Errorf("%s: function error %w", r.RouteKey, res.Error)
	}
	resp, err := ParseResponse(res.Payload)
	if err != nil {
		return resp, res, fmt.Errorf("%s: %w", r.RouteKey, err)
	}
	return resp, res, nil
}

// Close stops every function. It reports functions whose process had died.
func (s *Stack) Close() error {
	var errs []error
	for name, f := range s.running {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
