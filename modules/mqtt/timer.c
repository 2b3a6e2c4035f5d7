/*
 * timer.c - a hashed timer wheel with one-second slots, one per loop.
 *
 * Keep-alive, connect and linger deadlines are whole seconds, so a slot per second is exact
 * enough, and arming, re-arming and disarming are a list splice: no system call and no heap
 * operation per packet. A deadline more than MQTT_WHEEL_SLOTS seconds away sits in its slot and
 * is skipped until its turn comes round.
 */
#include "mqtt.h"

void mqtt_wheel_init(mqtt_wheel *w, uint32_t now)
{
    for (size_t i = 0; i < MQTT_WHEEL_SLOTS; i++)
        mqtt_list_init(&w->slots[i]);
    w->now = now;
    w->count = 0;
}

void mqtt_timer_init(mqtt_timer *t, mqtt_timer_fn fn)
{
    mqtt_list_init(&t->link);
    t->deadline = 0;
    t->fn = fn;
}

void mqtt_timer_arm(mqtt_wheel *w, mqtt_timer *t, uint32_t deadline)
{
    mqtt_timer_disarm(w, t);
    /* Slots up to w->now have run: an earlier deadline fires on the next advance. */
    if (deadline <= w->now)
        deadline = w->now + 1;
    t->deadline = deadline;
    mqtt_list_push(&w->slots[deadline % MQTT_WHEEL_SLOTS], &t->link);
    w->count++;
}

void mqtt_timer_disarm(mqtt_wheel *w, mqtt_timer *t)
{
    if (!mqtt_timer_armed(t))
        return;
    mqtt_list_unlink(&t->link);
    w->count--;
}

/* Fire the due timers of one slot. The slot is moved aside first, so callbacks may arm timers
 * into it (they wait for the next turn) or disarm timers still waiting in the moved list. */
static void run_slot(mqtt_loop *loop, mqtt_wheel *w, mqtt_list *slot)
{
    mqtt_list due;
    if (mqtt_list_empty(slot))
        return;
    due.next = slot->next;
    due.prev = slot->prev;
    due.next->prev = &due;
    due.prev->next = &due;
    mqtt_list_init(slot);

    while (!mqtt_list_empty(&due)) {
        mqtt_list *n = due.next;
        mqtt_timer *t = MQTT_CONTAINER(n, mqtt_timer, link);
        mqtt_list_unlink(n);
        if (t->deadline <= w->now) {
            w->count--;
            t->fn(loop, t);
        } else {
            mqtt_list_push(slot, n);
        }
    }
}

void mqtt_wheel_advance(mqtt_loop *loop, mqtt_wheel *w, uint32_t now)
{
    if (now <= w->now)
        return;
    if (now - w->now >= MQTT_WHEEL_SLOTS) {
        /* A long stall (or a suspended machine): every slot is due at most once. */
        w->now = now;
        for (size_t i = 0; i < MQTT_WHEEL_SLOTS && w->count > 0; i++)
            run_slot(loop, w, &w->slots[i]);
        return;
    }
    while (w->now < now) {
        w->now++;
        if (w->count > 0)
            run_slot(loop, w, &w->slots[w->now % MQTT_WHEEL_SLOTS]);
    }
}
