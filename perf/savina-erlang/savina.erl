%% The Savina micro-benchmarks in Erlang/OTP, the same programs as perf/savina-agents.ts
%% (shoal) and perf/savina-plain.ts (one-thread JS). Run by perf/agent-savina.bench.ts:
%%   erlc -o <dir> savina.erl && erl -noshell -pa <dir> -s savina main <rounds> <scale> -s init stop
%% Prints one line per run: "<case> <messages> <microseconds> <cpu milliseconds>", the CPU being
%% statistics(runtime): every thread of the VM (all schedulers, busy-waiting included).
-module(savina).
-export([main/1]).

main([RoundsA, ScaleA]) ->
    Rounds = list_to_integer(atom_to_list(RoundsA)),
    Scale = list_to_float(atom_to_list(ScaleA)),
    S = fun(N) -> max(1, round(N * Scale)) end,
    Cases = [
        {pingpong, fun() -> pingpong(S(40000)) end},
        {counting, fun() -> counting(S(1000000)) end},
        {fj_throughput, fun() -> fj_throughput(60, S(10000)) end},
        {fj_create, fun() -> fj_create(S(40000)) end},
        {thread_ring, fun() -> thread_ring(100, S(100000)) end},
        {chameneos, fun() -> chameneos(100, S(200000)) end},
        {big, fun() -> big(120, S(20000)) end},
        {bounded_buffer, fun() -> bounded_buffer(40, 40, S(1000), 50) end}
    ],
    lists:foreach(
        fun(_) ->
            lists:foreach(
                fun({Name, F}) ->
                    {Cpu0, _} = statistics(runtime),
                    T0 = erlang:monotonic_time(microsecond),
                    Msgs = F(),
                    T1 = erlang:monotonic_time(microsecond),
                    {Cpu1, _} = statistics(runtime),
                    io:format("~s ~b ~b ~b~n", [Name, Msgs, T1 - T0, Cpu1 - Cpu0])
                end,
                Cases)
        end,
        lists:seq(1, Rounds)).

%% PingPong
pingpong(N) ->
    Self = self(),
    Pong = spawn(fun() -> pong_loop() end),
    Ping = spawn(fun() -> ping_loop(Pong, N, Self) end),
    Ping ! start,
    receive done -> 2 * N end.
ping_loop(Pong, N, Parent) ->
    receive
        start -> Pong ! {ping, self()}, ping_loop(Pong, N, Parent);
        pong when N =< 1 -> Pong ! stop, Parent ! done;
        pong -> Pong ! {ping, self()}, ping_loop(Pong, N - 1, Parent)
    end.
pong_loop() ->
    receive
        {ping, From} -> From ! pong, pong_loop();
        stop -> ok
    end.

%% Counting
counting(N) ->
    Self = self(),
    Counter = spawn(fun() -> counter_loop(0) end),
    spawn(fun() -> produce(Counter, N), Counter ! {get, Self} end),
    receive {count, N} -> N end.
produce(_, 0) -> ok;
produce(C, N) -> C ! inc, produce(C, N - 1).
counter_loop(K) ->
    receive
        inc -> counter_loop(K + 1);
        {get, From} -> From ! {count, K}
    end.

%% Fork-join throughput
fj_throughput(Actors, N) ->
    Self = self(),
    Ws = [spawn(fun() -> fj_loop(0, 0.0, N, Self) end) || _ <- lists:seq(1, Actors)],
    send_rounds(Ws, N),
    [receive fj_done -> ok end || _ <- Ws],
    Actors * N.
send_rounds(_, 0) -> ok;
send_rounds(Ws, N) -> [W ! work || W <- Ws], send_rounds(Ws, N - 1).
fj_loop(K, X, N, Parent) ->
    receive
        work when K + 1 =:= N -> _ = X + math:sin(K), Parent ! fj_done;
        work -> fj_loop(K + 1, X + math:sin(K), N, Parent)
    end.

%% Fork-join create
fj_create(N) ->
    Self = self(),
    [spawn(fun() -> receive work -> _ = math:sin(1.0), Self ! fj_done end end) ! work || _ <- lists:seq(1, N)],
    [receive fj_done -> ok end || _ <- lists:seq(1, N)],
    N.

%% ThreadRing
thread_ring(Actors, Hops) ->
    Self = self(),
    First = spawn(fun() -> receive {link, Next} -> ring_loop(Next, Self) end end),
    Last = lists:foldl(
        fun(_, Next) -> spawn(fun() -> ring_loop(Next, Self) end) end,
        First, lists:seq(2, Actors)),
    First ! {link, Last},
    First ! {token, Hops},
    receive ring_done -> ok end,
    [P ! stop || P <- [First]],
    Hops + 1.
ring_loop(Next, Parent) ->
    receive
        {token, 0} -> Parent ! ring_done, ring_loop(Next, Parent);
        {token, N} -> Next ! {token, N - 1}, ring_loop(Next, Parent);
        stop -> Next ! stop
    end.

%% Chameneos
chameneos(Count, Meetings) ->
    Self = self(),
    Mall = spawn(fun() -> mall(Meetings, none, 0, Count, Self, 0) end),
    [spawn(fun() -> Mall ! {meet, self(), I rem 3}, cham(Mall) end) || I <- lists:seq(1, Count)],
    receive {cham_done, Msgs} -> Msgs end.
mall(Left, Waiting, Faded, Total, Parent, Msgs) ->
    receive
        {meet, C, _} when Left =< 0 ->
            C ! stop,
            case Faded + 1 of
                Total -> Parent ! {cham_done, Msgs + 2};
                F -> mall(Left, Waiting, F, Total, Parent, Msgs + 2)
            end;
        {meet, C, Color} when Waiting =:= none -> mall(Left, {C, Color}, Faded, Total, Parent, Msgs + 1);
        {meet, C, Color} ->
            {O, OC} = Waiting,
            New = complement(OC, Color),
            O ! {met, New},
            C ! {met, New},
            mall(Left - 1, none, Faded, Total, Parent, Msgs + 3)
    end.
complement(A, A) -> A;
complement(A, B) -> 3 - A - B.
cham(Mall) ->
    receive
        {met, Color} -> Mall ! {meet, self(), Color}, cham(Mall);
        stop -> ok
    end.

%% Big
big(Actors, N) ->
    Self = self(),
    Ps = [spawn(fun() -> receive {peers, Peers} -> big_loop(list_to_tuple(Peers), N, Self, I * 7919 bor 1) end end)
          || I <- lists:seq(1, Actors)],
    [P ! {peers, Ps} || P <- Ps],
    [receive big_done -> ok end || _ <- Ps],
    [P ! stop || P <- Ps],
    Actors * N * 2.
big_next(Peers, Seed) ->
    S = (Seed * 1103515245 + 12345) band 16#7fffffff,
    element(S rem tuple_size(Peers) + 1, Peers) ! {ping, self()},
    S.
big_loop(Peers, N, Parent, Seed0) ->
    Seed = big_next(Peers, Seed0),
    big_wait(Peers, N, Parent, Seed).
big_wait(Peers, N, Parent, Seed) ->
    receive
        {ping, From} -> From ! pong, big_wait(Peers, N, Parent, Seed);
        pong when N =< 1 -> Parent ! big_done, big_serve();
        pong -> big_loop(Peers, N - 1, Parent, Seed);
        stop -> ok
    end.
big_serve() ->
    receive
        {ping, From} -> From ! pong, big_serve();
        stop -> ok
    end.

%% Bounded buffer: producers wait for room (a buffer of Size items), consumers take round-robin
bounded_buffer(Producers, Consumers, Items, Size) ->
    Self = self(),
    Cs = [spawn(fun() -> bb_consumer(Items * Producers div Consumers, Self) end) || _ <- lists:seq(1, Consumers)],
    Buf = spawn(fun() -> bb_buffer(list_to_tuple(Cs), 0, Size) end),
    [spawn(fun() -> bb_produce(Buf, Items) end) || _ <- lists:seq(1, Producers)],
    [receive bb_done -> ok end || _ <- Cs],
    Buf ! stop,
    Producers * Items * 2.
bb_produce(_, 0) -> ok;
bb_produce(Buf, N) -> Buf ! {put, N, self()}, receive more -> bb_produce(Buf, N - 1) end.
bb_buffer(Cs, I, Size) ->
    receive
        {put, X, From} ->
            element(I rem tuple_size(Cs) + 1, Cs) ! {consume, X},
            From ! more,
            bb_buffer(Cs, I + 1, Size);
        stop -> ok
    end.
bb_consumer(0, Parent) -> Parent ! bb_done;
bb_consumer(N, Parent) -> receive {consume, _} -> bb_consumer(N - 1, Parent) end.
