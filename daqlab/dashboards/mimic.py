"""The station as a process picture (组态画面), like the SCADA screens trainees will meet: one SVG.

:func:`mimic_svg` draws the conveyor line of one station from one scan: the conveyor and its part counter,
the motor driven by the VFD (frequency, current), the power meter, the analog module (motor temperature) and
the temperature/humidity sensor, with the PLC's line state. Colours follow the usual convention: green
running / healthy, grey stopped, amber starting or stopping, red fault or alarm, dashed grey offline (no
reply). Each device group carries ``data-device`` and ``data-state`` (online / offline / fault / alarm) so
tests and screen readers read the same picture. Values are the scan's engineering values; a broken-sensor
value is shown as "—", never as a number.
"""

from __future__ import annotations

import html

from daqlab.plant.process import STATE_NAMES

COLOURS = {"online": "#16a34a", "fault": "#dc2626", "alarm": "#dc2626", "offline": "#9ca3af", "stopped": "#6b7280",
           "starting": "#d97706", "stopping": "#d97706", "running": "#16a34a"}
#: which PLC alarm flags turn which device red in the picture
ALARM_DEVICE = {"vfd_fault": "vfd", "motor_overtemp": "ai", "jam": "conveyor", "estop": "plc", "sensor_fault": "ai"}


def _num(v, digits=1, unit="") -> str:
    return "—" if v is None else f"{v:.{digits}f}{unit}"


def _box(dev, state, x, y, w, h, title, lines) -> str:
    colour = COLOURS.get(state, "#6b7280")
    dash = ' stroke-dasharray="6 4"' if state == "offline" else ""
    text = "".join(f'<text x="{x + 10}" y="{y + 44 + 22 * i}" font-size="16" fill="#111">{html.escape(t)}</text>'
                   for i, t in enumerate(lines))
    return (f'<g class="mimic-device" data-device="{dev}" data-state="{state}">'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#fff" stroke="{colour}" stroke-width="4"{dash}/>'
            f'<rect x="{x}" y="{y}" width="{w}" height="24" rx="8" fill="{colour}"/>'
            f'<text x="{x + 10}" y="{y + 17}" font-size="15" font-weight="bold" fill="#fff">{html.escape(title)}</text>'
            f"{text}</g>")


def mimic_svg(values: dict, status: dict[str, tuple[str, str]], alarms: dict[str, bool] | None = None) -> str:
    """The process picture of one scan: ``values`` (tag -> value, sentinels blanked), ``status`` (device ->
    (online | offline | fault, detail)), ``alarms`` (PLC alarm flag -> on)."""
    alarms = alarms or {}
    red = {ALARM_DEVICE[k] for k, on in alarms.items() if on and k in ALARM_DEVICE}

    def state(dev):
        s = status.get(dev, ("offline", ""))[0]
        return "alarm" if s == "online" and dev in red else s

    line = values.get("plc.state")
    line_name = STATE_NAMES.get(int(line), "unknown") if line is not None else "unknown"
    belt = "alarm" if "conveyor" in red else (line_name if status.get("plc", ("offline",))[0] == "online" else "offline")
    belt_colour = COLOURS.get(belt, "#9ca3af")
    rollers = "".join(f'<circle cx="{x}" cy="214" r="12" fill="#e5e7eb" stroke="{belt_colour}" stroke-width="3"/>'
                      for x in range(60, 640, 64))
    conveyor = (f'<g class="mimic-device" data-device="conveyor" data-state="{belt}">'
                f'<rect x="40" y="196" width="600" height="36" rx="18" fill="none" stroke="{belt_colour}" stroke-width="6"/>'
                f"{rollers}"
                f'<text x="44" y="262" font-size="16">输送线 conveyor · {html.escape(line_name)} · 零件 parts '
                f'{_num(values.get("plc.parts"), 0)}</text></g>')
    motor_state = state("vfd")
    motor = (f'<g class="mimic-device" data-device="motor" data-state="{motor_state}">'
             f'<circle cx="700" cy="214" r="34" fill="#fff" stroke="{COLOURS.get(motor_state, "#6b7280")}" stroke-width="5"/>'
             f'<text x="700" y="222" font-size="24" font-weight="bold" text-anchor="middle">M</text>'
             f'<line x1="640" y1="214" x2="666" y2="214" stroke="#374151" stroke-width="6"/></g>')
    parts = [
        _box("plc", state("plc"), 20, 10, 170, 120, "PLC 控制器",
             [f"状态 {line_name}", f"合格 {_num(values.get('plc.good'), 0)}", f"不良 {_num(values.get('plc.reject'), 0)}"]),
        _box("vfd", state("vfd"), 210, 10, 170, 120, "VFD 变频器",
             [f"{_num(values.get('vfd.output_freq'), 1, ' Hz')}", f"{_num(values.get('vfd.output_current'), 2, ' A')}",
              f"故障码 {_num(values.get('vfd.fault_code'), 0)}"]),
        _box("meter", state("meter"), 400, 10, 170, 120, "电表 meter",
             [f"{_num(values.get('meter.power_total'), 0, ' W')}", "总有功功率"]),
        _box("ai", state("ai"), 590, 10, 170, 120, "模拟量 AI",
             [f"电机 {_num(values.get('ai.motor_temp'), 1, ' °C')}", f"状态 {_num(values.get('ai.status'), 0)}"]),
        _box("th", state("th"), 780, 10, 170, 120, "温湿度 T/H",
             [f"{_num(values.get('th.temperature'), 1, ' °C')}", f"{_num(values.get('th.humidity'), 1, ' %RH')}"]),
    ]
    wires = ('<path d="M295 130 V170 H700 V180" fill="none" stroke="#9ca3af" stroke-width="2" stroke-dasharray="4 3"/>'
             '<path d="M675 130 V180" fill="none" stroke="#9ca3af" stroke-width="2" stroke-dasharray="4 3"/>')
    return ('<svg class="hmi-mimic" viewBox="0 0 970 280" width="970" height="280" role="img" '
            'aria-label="station process picture 工位组态画面" xmlns="http://www.w3.org/2000/svg">'
            + wires + "".join(parts) + conveyor + motor + "</svg>")
