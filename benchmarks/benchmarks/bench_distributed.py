"""The distributed model and BFV encrypted aggregation. Bodies are thin calls into wbstream."""

from wbstream.bench import distributed

SERVERS = [2, 8, 32]
COLS = [16, 200, 1600]


class EncryptedAggregation:
    """Seconds per server to encrypt and to add, and the key holder's decrypt-plus-report (lower is better)."""

    params = (SERVERS, COLS)
    param_names = ["servers", "cols"]
    unit = "seconds"
    timeout = 300

    def setup(self, servers, cols):
        self.row = distributed.he_costs(servers=(servers,), cols=(cols,), repeats=1)[0]

    def _row(self, servers, cols):
        return self.row

    def track_encrypt_seconds(self, servers, cols):
        return self._row(servers, cols)["encrypt_s"]

    def track_add_seconds_per_server(self, servers, cols):
        return self._row(servers, cols)["add_s"]

    def track_decrypt_report_seconds(self, servers, cols):
        return self._row(servers, cols)["report_s"]

    def track_ciphertext_over_plain_bytes(self, servers, cols):
        row = self._row(servers, cols)
        return row["ciphertext_bytes"] / row["plain_bytes"]

    track_ciphertext_over_plain_bytes.unit = "ratio"


class Communication:
    """Bits one server sends, over the Õ(k) bound, and coordinator seconds, against k (lower is better)."""

    params = (list(distributed.COMM_SPECS), [1, 16, 64])
    param_names = ["algorithm", "k"]
    timeout = 300

    def setup(self, algorithm, k):
        (self.row,) = distributed.communication_vs_k(ks=(k,), specs=(distributed.COMM_SPECS[algorithm],))

    def _row(self, algorithm, k):
        return self.row

    def track_message_over_bound(self, algorithm, k):
        return self._row(algorithm, k)["ratio"]

    track_message_over_bound.unit = "ratio"

    def track_coordinator_seconds(self, algorithm, k):
        return self._row(algorithm, k)["coordinator_s"]

    track_coordinator_seconds.unit = "seconds"
