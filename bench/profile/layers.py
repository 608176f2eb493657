#!/usr/bin/env python3
"""Per-layer CPU of a request, from a dotnet-trace speedscope file (bench/profile.sh).

  layers.py TRACE.speedscope.json [REQUESTS]   each layer's share of the busy samples (and CPU us per request)
  layers.py --counters COUNTERS.csv RATE       CPU, bytes and work items per request from dotnet-counters

A sample is busy when its thread was running managed code (the sampler's CPU_TIME leaf), or native code under a
Kestrel connection (a socket send or receive) rather than a wait. It counts for the deepest frame on its stack that
matches LAYERS: an API-token check called by the authentication middleware is "authentication", the JSON writer
called by the endpoint is "serialization", Kestrel writing the response is "kestrel".
"""
import collections
import csv
import json
import sys

LAYERS = [
    ('Microsoft.AspNetCore.Server.Kestrel', 'kestrel (parse, write, connection)'),
    ('System.Net.Sockets', 'kestrel (parse, write, connection)'),
    ('System.IO.Pipelines', 'kestrel (parse, write, connection)'),
    ('Microsoft.AspNetCore.Hosting', 'hosting (context, diagnostics)'),
    ('System.Diagnostics.Activity', 'hosting (context, diagnostics)'),
    ('Microsoft.AspNetCore.HostFiltering', 'mw: host filtering'),
    ('ForwardedHeadersMiddleware', 'mw: forwarded headers'),
    ('ExceptionHandlerMiddleware', 'mw: exception handler'),
    ('StatusCodePagesMiddleware', 'mw: status code pages'),
    ('RequestLimitsMiddleware', 'mw: request limits'),
    ('Swashbuckle.AspNetCore.Swagger!', 'mw: swagger json'),
    ('SwaggerUIMiddleware', 'mw: swagger ui'),
    ('Microsoft.AspNetCore.StaticFiles', 'mw: static files'),
    ('ThrottleMiddleware', 'mw: throttle'),
    ('Microsoft.AspNetCore.Routing', 'routing'),
    ('AuthenticationMiddleware', 'authentication'),
    ('Microsoft.AspNetCore.Authentication', 'authentication'),
    ('Dot.Api.Authentication', 'authentication'),
    ('Dot.Api.Tokens', 'authentication'),
    ('Dot.Api.Sessions', 'authentication'),
    ('SessionAntiforgeryMiddleware', 'mw: session antiforgery'),
    ('Microsoft.AspNetCore.Authorization', 'authorization'),
    ('Dot.Api.Access', 'authorization'),
    ('EndpointMiddleware', 'endpoint (handler)'),
    ('lambda_method', 'endpoint (handler)'),
    ('Microsoft.AspNetCore.Http.RequestDelegateFactory', 'endpoint (handler)'),
    ('Dot.Api.BenchHost.BenchEndpoints', 'endpoint (handler)'),
    ('Dot.Api.Health', 'endpoint (handler)'),
    ('AuthApi', 'endpoint (handler)'),
    ('System.Text.Json', 'serialization (System.Text.Json)'),
    ('HttpResponseJsonExtensions', 'serialization (System.Text.Json)'),
    ('Microsoft.Extensions.Logging', 'logging'),
    ('Microsoft.Extensions.DependencyInjection', 'dependency injection (request scope)'),
]
OTHER = 'other (thread pool, async machinery, GC)'
WAITS = ('Wait', 'Sleep', 'epoll', 'Interop+Sys.Read', 'TryDequeue', 'Monitor.Enter')


def layer_of(names):
    for name in reversed(names):
        for pattern, layer in LAYERS:
            if pattern in name:
                return layer, name
    return OTHER, names[-2] if len(names) > 1 else names[-1]


def trace(path, requests):
    data = json.load(open(path))
    frames = [f['name'] for f in data['shared']['frames']]
    layers = collections.Counter()
    where = collections.defaultdict(collections.Counter)
    total = 0.0
    for profile in data['profiles']:
        stack, last = [], profile['startValue']
        for event in profile['events']:
            at = event['at']
            elapsed, last = at - last, at
            if stack and elapsed > 0:
                names = [frames[i] for i in stack]
                leaf = names[-1]
                busy = leaf == 'CPU_TIME' or (
                    leaf == 'UNMANAGED_CODE_TIME' and len(names) > 1 and not any(w in names[-2] for w in WAITS)
                    and any('HttpProtocol' in n or 'SocketConnection' in n for n in names))
                if busy:
                    layer, frame = layer_of(names[:-1] if len(names) > 1 else names)
                    layers[layer] += elapsed
                    where[layer][frame.split('!')[-1].split('(')[0][:90]] += elapsed
                    total += elapsed
            if event['type'] == 'O':
                stack.append(event['frame'])
            elif stack and stack[-1] == event['frame']:
                stack.pop()
            elif event['frame'] in stack:
                del stack[len(stack) - 1 - stack[::-1].index(event['frame']):]
    if total == 0:
        sys.exit('no busy samples in ' + path)
    print(f'busy: {total:.0f} ms of samples' + (f' over about {requests:.0f} requests = {1000 * total / requests:.1f} us CPU per request' if requests else ''))
    print(f'| {"layer":38} | {"share":>6} |' + (f' {"us/req":>7} |' if requests else '') + ' deepest frame, most often')
    for layer, ms in layers.most_common():
        top = where[layer].most_common(1)[0][0]
        print(f'| {layer:38} | {100 * ms / total:5.1f}% |' + (f' {1000 * ms / requests:7.2f} |' if requests else '') + f' {top}')


def counters(path, rate):
    """Means over the run of the counters that say what a request costs, per request at the given request rate."""
    sums, counts = collections.Counter(), collections.Counter()
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            try:
                value = float(row.get('Mean/Increment') or 0)
            except ValueError:
                continue
            sums[row.get('Counter Name', '')] += value
            counts[row.get('Counter Name', '')] += 1

    def mean(prefix):
        names = [n for n in sums if n.startswith(prefix)]
        return sum(sums[n] / counts[n] for n in names) if names else 0.0

    cpu = mean('dotnet.process.cpu.time')
    allocated = mean('dotnet.gc.heap.total_allocated')
    gen0 = mean('dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen0]')
    items = mean('dotnet.thread_pool.work_item.count')
    pause = mean('dotnet.gc.pause.time')
    print(f'dotnet-counters at {rate:,.0f} req/s: CPU {100 * cpu:.0f}% of a core = {1e6 * cpu / rate:.1f} us/req; '
          f'allocated {allocated / rate:,.0f} B/req; {gen0:.1f} gen0 GCs/s ({100 * pause:.1f}% of the time in GC pauses); '
          f'{items / rate:.2f} thread-pool work items per request')


if __name__ == '__main__':
    if len(sys.argv) >= 4 and sys.argv[1] == '--counters':
        counters(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) >= 2:
        trace(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0)
    else:
        sys.exit(__doc__)
