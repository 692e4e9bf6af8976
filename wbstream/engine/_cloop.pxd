import cython

@cython.locals(r=cython.longlong, n=cython.longlong, M=cython.longlong, i=cython.longlong, d=cython.longlong,
               old=cython.longlong, new=cython.longlong, size=cython.Py_ssize_t, updates=cython.longlong,
               max_rounds=cython.longlong, max_updates=cython.longlong, max_batch=cython.longlong, every=cython.longlong,
               next_query=cython.longlong, mask=cython.longlong, seg_end=cython.longlong,
               dnnz=cython.longlong, timed_rounds=cython.longlong, last_query_round=cython.longlong,
               queries=cython.longlong, timed=cython.bint, positive_only=cython.bint, sumsq=cython.bint,
               stop_on_failure=cython.bint, xview=cython.longlong[:])
cpdef tuple play_rounds(obs, act, update, problem, query, judge_and_record, transcript, long long every,
                        long long max_rounds, long long max_updates, long long max_batch, deadline, bint stop_on_failure)
