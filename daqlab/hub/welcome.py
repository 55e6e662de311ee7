"""The trainee's landing page: ``~/WELCOME.ipynb`` (markdown only), opened when their server starts.

Written at every server start (:func:`daqlab.hub.files.provision_home`) from the trainee's own account, so it
names their station, their broker account and their results page; it says where to start (lesson 01), where
the assignments are (Nbgrader > Assignment List), how the theory paper is answered and submitted, and what to
do when something is wrong. Chinese first, English terms in parentheses. JupyterLab's news prompt is switched
off for everyone (:data:`NO_NEWS`), so the first thing a trainee sees is this page.
"""

from __future__ import annotations

import json

from daqlab.hub.accounts import Account, station_card
from daqlab.hub.settings import HubSettings

WELCOME = "WELCOME.ipynb"
NO_NEWS = "@jupyterlab/apputils-extension:announcements"  #: the "receive official Jupyter news?" prompt


def first_lesson(settings: HubSettings) -> str:
    from pathlib import Path

    lessons = sorted(p.name for p in Path(settings.lessons).glob("01-*.ipynb"))
    return lessons[0] if lessons else "01-The-Data-Chain.ipynb"


def welcome_text(settings: HubSettings, account: Account) -> str:
    card = station_card(settings, account)
    name = account.display or account.name
    results = f"/user/{account.name}/voila/render/dashboards/results.ipynb"
    lines = [
        f"# 欢迎，{name}！· Welcome",
        "",
        f"**账号 (account)**：`{account.name}` · **工位 (station)**：**{card['station']}** · "
        f"**设备地址 (endpoint)**：`{card['endpoint']}`",
        "",
        "## 第一步 · Start here",
        f"1. 打开第一课：[01 数据链路 (The Data Chain)](lessons/{first_lesson(settings)})。课程在左侧文件夹 "
        "`lessons/` 里，按编号顺序学习；每个练习下面都有自检单元格（self-check）。"
        "[课程地图（course map）](lessons/course-map.md) 说明每课对应的竞赛内容，"
        "[术语表（glossary）](lessons/glossary.md) 列出中英文术语。",
        "2. 你的代码只能连到**你自己的工位**。在笔记本里用 `from daqlab import my_station` 就能拿到地址，"
        "工位说明书（datasheet）用 `my_datasheet()` 查看。",
        "",
        "## 作业和考试在哪里 · Assignments",
        "- 菜单 **Nbgrader → Assignment List（作业列表）**：**Fetch（获取）** 作业，做完后 **Submit（提交）**，"
        "老师评分后 **Fetch Feedback（获取反馈）**。可以多次提交，以最后一次为准。",
        "- **理论卷 (theory paper)**：打开后点击选项作答，每点一次自动保存；可“标记”没把握的题，答题卡上的题号可以跳转；"
        "考试卷有倒计时，时间到会锁定；答完按 **交卷 Submit**。练习卷可以逐题“确认并看答案”。",
        "",
        "## 我的成绩 · My results",
        f"- [成绩看板 (results dashboard)]({results})：只显示你自己的成绩、各知识领域掌握度和反馈。",
    ]
    if "mqtt" in card:
        m = card["mqtt"]
        lines += ["", "## 数据上云 · MQTT",
                  f"- 消息代理 (broker)：`{m['url']}` · 用户名 `{m['username']}` · 上报主题 (topic) `{m['post_topic']}`；"
                  "密码已在你的内核环境里（`from daqlab.station import my_platform`），不要写进笔记本。"]
    lines += ["", "## 遇到问题 · If something is wrong",
              "- 读不到数据：先看工位号和地址是否是你自己的，再看功能码 (function code) 和寄存器地址是否从 0 开始。",
              "- 页面卡住：保存后刷新页面；答案和作业不会丢失。",
              "- 仍然不行：举手请老师帮忙，告诉老师你的账号和工位号。",
              "", "*工位卡 (station card)：`daqlab-station.json` · 本页每次登录时自动更新 (refreshed at every start)。*"]
    return "\n".join(lines)


def welcome_notebook(settings: HubSettings, account: Account) -> str:
    nb = {"cells": [{"cell_type": "markdown", "id": "welcome", "metadata": {"editable": False, "deletable": False},
                     "source": welcome_text(settings, account)}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
