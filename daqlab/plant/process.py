"""The coupled, deterministic process model of one station (separate from the register "skins").

Physics in one paragraph: the VFD's output frequency follows its command with a ramp
(``RAMP_HZ_PER_S``); the conveyor moves parts at ``PARTS_PER_S_AT_50HZ`` scaled by frequency; each
finished part is rejected with the station's reject rate; the motor current depends on frequency
and load (higher while accelerating and during a jam); the meter's power follows the motor current
plus a constant base load; energy integrates power; the motor winding warms with current²
(first-order lag, ``MOTOR_TAU_S``); ambient temperature and humidity drift slowly; pressure, level
and flow feed the analog module. Seeded noise, jams and rejects make the data realistic.

Determinism: the model advances in fixed steps of ``DT`` plant seconds and draws the same number of
random numbers every step, so reads never change the future, and the same seed with the same
commands at the same plant times reproduces every value.
"""

from __future__ import annotations

import math
import random

DT = 0.1  #: plant seconds per integration step
RAMP_HZ_PER_S = 10.0  #: VFD acceleration and deceleration (0 -> 50 Hz in 5 s)
JOG_HZ = 6.0  #: jog frequency
PARTS_PER_S_AT_50HZ = 1.0  #: conveyor throughput at 50 Hz (60 parts/min)
MOTOR_TAU_S = 240.0  #: thermal time constant of the motor winding
JAM_RATE_PER_S = 1 / 900  #: expected jams per running second (one per 15 min)
JAM_SECONDS = 4.0  #: a jam stalls the conveyor this long
BASE_LOAD_A = 0.35  #: per-phase current of lights, PLC and fans
MOTOR_PF = 0.82  #: motor power factor at load
MAX_FREQ_HZ = 60.0  #: highest accepted frequency command

# PLC states (input register "state")
STOPPED, STARTING, RUNNING, STOPPING, FAULT = range(5)
STATE_NAMES = {STOPPED: "stopped", STARTING: "starting", RUNNING: "running", STOPPING: "stopping", FAULT: "fault"}

# PLC alarm word bits
ALARM_BITS = {0: "estop", 1: "motor_overtemp", 2: "vfd_fault", 3: "jam", 4: "reject_rate_high", 5: "sensor_fault"}

# VFD fault codes (0x2100), the simulator's own table (documented in the datasheet)
VFD_FAULTS = {0: "none", 3: "overheat", 16: "external fault (EF)", 21: "emergency stop"}


class Process:
    """State and integration of one station. Mutated only by :meth:`advance_to` and the commands."""

    def __init__(self, seed: int, *, reject_rate: float = 0.03):
        self.rng = random.Random(seed)
        self.reject_rate = reject_rate
        self.step = 0  # steps integrated so far; plant time = step * DT
        # VFD
        self.run = False
        self.jog = False
        self.reverse = False
        self.freq_cmd = 0.0
        self.out_freq = 0.0
        self.vfd_fault = 0
        self.ext_fault = False
        # PLC
        self.auto_mode = True
        self.speed_setpoint = 50.0
        self.batch_size = 100
        self.parts = 0
        self.good = 0
        self.reject = 0
        self.batch_done = 0
        self._part_acc = 0.0
        self.last_part_t = -1.0
        self.last_reject_t = -1.0
        self.jam_until = -1.0
        self.estop = False
        self.guard_closed = True
        self.sensor_fault = False
        # electrical and thermal
        self.current = 0.0
        self.load = 0.55
        self.energy_kwh = 12.0 + (seed % 5000) / 10.0  # a meter is never installed at zero
        self.motor_temp = 26.0
        self.ambient = 24.0
        self.humidity = 52.0
        self.volts = [230.0, 230.0, 230.0]
        self.hz = 50.0
        self.pressure = 6.0
        self.level = 1.0
        self.flow = 0.0
        self._hum_walk = 0.0

    # ------------------------------------------------------------------ time
    @property
    def t(self) -> float:
        """Plant time of the current state, seconds."""
        return self.step * DT

    def advance_to(self, t: float) -> None:
        """Integrate up to plant time ``t`` (whole steps only)."""
        target = int(t / DT + 1e-9)
        step = self._step
        while self.step < target:
            step()

    def _step(self) -> None:
        rng = self.rng
        # fixed draws per step: determinism does not depend on what happens
        r_jam, r_reject = rng.random(), rng.random()
        n1, n2, n3, n4, n5, n6 = (rng.gauss(0.0, 1.0) for _ in range(6))
        self.step += 1
        t = self.step * DT

        # VFD ramp toward its target frequency
        tripped = self.vfd_fault != 0 or self.estop
        target = 0.0 if (tripped or not self.run) else (JOG_HZ if self.jog else self.freq_cmd)
        delta = target - self.out_freq
        ramp = RAMP_HZ_PER_S * DT
        accelerating = delta > ramp * 0.5
        self.out_freq = target if abs(delta) <= ramp else self.out_freq + math.copysign(ramp, delta)
        f = self.out_freq

        # conveyor, jams and parts
        jammed = t < self.jam_until
        if f > 1.0 and not jammed and r_jam < JAM_RATE_PER_S * DT:
            self.jam_until = t + JAM_SECONDS
            jammed = True
        if f > 0.0 and not jammed and not self.reverse:
            self._part_acc += PARTS_PER_S_AT_50HZ * (f / 50.0) * DT
            if self._part_acc >= 1.0:
                self._part_acc -= 1.0
                self.parts = (self.parts + 1) & 0xFFFFFFFF
                self.last_part_t = t
                if r_reject < self.reject_rate:
                    self.reject += 1
                    self.last_reject_t = t
                else:
                    self.good += 1
                    if self.good % max(1, self.batch_size) == 0:
                        self.batch_done += 1

        # motor current and heat
        self.load = 0.55 + 0.03 * n1 + (0.6 if jammed else 0.0)
        if f < 0.05:
            self.current = 0.0
        else:
            self.current = (1.2 + 2.8 * self.load * (f / 50.0)) * (1.25 if accelerating else 1.0) + 0.02 * n2
        heat = 45.0 * (self.current / 4.0) ** 2
        self.motor_temp += (self.ambient + heat - self.motor_temp) / MOTOR_TAU_S * DT

        # environment
        self.ambient = 24.0 + 1.5 * math.sin(2 * math.pi * t / 1800.0) + 0.04 * n3
        self._hum_walk = max(-12.0, min(12.0, 0.998 * self._hum_walk + 0.05 * n4))
        self.humidity = 52.0 + self._hum_walk - 0.3 * (self.ambient - 24.0)
        self.volts = [230.0 + 0.4 * n5, 229.4 + 0.4 * n5, 230.7 + 0.4 * n5]
        self.hz = 50.0 + 0.01 * n6

        # air and water
        self.pressure = 6.0 - 0.4 * (f / 50.0) + 0.03 * n1
        self.level = 1.0 + 0.4 * math.sin(2 * math.pi * t / 900.0) + 0.005 * n3
        self.flow = 12.0 * (f / 50.0) + (0.05 * n2 if f > 0 else 0.0)

        # energy from the meter's total power
        self.energy_kwh += self.total_power_w() * DT / 3_600_000.0

    # ------------------------------------------------------------ electrical
    def phase_currents(self) -> list[float]:
        """Line currents (A): motor current with a small imbalance plus the base load."""
        m = self.current
        return [m * 0.98 + BASE_LOAD_A, m * 1.00 + BASE_LOAD_A, m * 1.02 + BASE_LOAD_A]

    def phase_powers(self) -> list[tuple[float, float, float]]:
        """Per phase (P W, Q VAr, S VA): motor at MOTOR_PF plus a base load at PF 0.95."""
        out = []
        m = self.current
        sin_m = math.sqrt(1 - MOTOR_PF**2)
        sin_b = math.sqrt(1 - 0.95**2)
        for v, k in zip(self.volts, (0.98, 1.00, 1.02), strict=True):
            p = v * m * k * MOTOR_PF + v * BASE_LOAD_A * 0.95
            q = v * m * k * sin_m + v * BASE_LOAD_A * sin_b
            out.append((p, q, math.hypot(p, q)))
        return out

    def total_power_w(self) -> float:
        m = self.current
        return sum(v * (m * k * MOTOR_PF + BASE_LOAD_A * 0.95) for v, k in zip(self.volts, (0.98, 1.0, 1.02), strict=True))

    # -------------------------------------------------------------- status
    @property
    def jammed(self) -> bool:
        return self.t < self.jam_until

    @property
    def state(self) -> int:
        """PLC state machine value (see STATE_NAMES)."""
        if self.vfd_fault or self.estop:
            return FAULT
        if self.run:
            return RUNNING if self.out_freq >= (JOG_HZ if self.jog else self.freq_cmd) - 0.01 else STARTING
        return STOPPING if self.out_freq > 0 else STOPPED

    def alarm_word(self) -> int:
        """PLC alarm bit-word (ALARM_BITS)."""
        word = 0
        if self.estop:
            word |= 1
        if self.motor_temp > 85.0:
            word |= 2
        if self.vfd_fault:
            word |= 4
        if self.jammed:
            word |= 8
        total = self.good + self.reject
        if total >= 20 and self.reject / total > 0.08:
            word |= 16
        if self.sensor_fault:
            word |= 32
        return word

    # ------------------------------------------------------------- commands
    def start(self, freq: float | None = None) -> None:
        """Run forward (PLC run coil or VFD command word); optional new frequency command."""
        if freq is not None:
            self.freq_cmd = freq
        self.run, self.jog = True, False

    def stop(self) -> None:
        self.run, self.jog = False, False

    def reset(self) -> None:
        """Clear latched faults (VFD fault code unless the external-fault input is still on) and a jam."""
        if not self.ext_fault:
            self.vfd_fault = 0
        self.jam_until = -1.0
