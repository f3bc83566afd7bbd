-- TRADE_BOT v1.9.0: views.

CREATE VIEW public.v_live_orders_audit AS
 SELECT trading_orders.id,
    trading_orders.created_at,
    trading_orders.pair,
    trading_orders.side,
    trading_orders.quantity,
    trading_orders.execution_price,
    (trading_orders.execution_price * trading_orders.quantity) AS value_zar,
    trading_orders.status,
    trading_orders.valr_order_id,
    trading_orders.correlation_id
   FROM public.trading_orders
  WHERE ((trading_orders.execution_mode)::text = 'LIVE'::text)
  ORDER BY trading_orders.created_at DESC;

CREATE VIEW public.v_simulated_orders_summary AS
 SELECT date(trading_orders.created_at) AS order_date,
    trading_orders.pair,
    trading_orders.side,
    count(*) AS order_count,
    sum(trading_orders.quantity) AS total_quantity,
    avg(trading_orders.execution_price) AS avg_price,
    sum((trading_orders.execution_price * trading_orders.quantity)) AS total_value_zar
   FROM public.trading_orders
  WHERE (trading_orders.is_simulated = true)
  GROUP BY (date(trading_orders.created_at)), trading_orders.pair, trading_orders.side
  ORDER BY (date(trading_orders.created_at)) DESC, trading_orders.pair, trading_orders.side;

CREATE VIEW public.vw_kill_switch_events AS
 SELECT s.correlation_id,
    s.signal_id,
    s.symbol,
    oe.exchange_order_id,
    ev.event_type,
    ev.zar_equity,
    ev.positions_closed,
    ev.rejection_reason,
    ev.created_at AS kill_switch_timestamp,
    s.created_at AS original_signal_timestamp
   FROM ((public.order_events ev
     JOIN public.order_execution oe ON ((ev.order_execution_id = oe.id)))
     JOIN public.signals s ON ((oe.correlation_id = s.correlation_id)))
  WHERE ((ev.event_type)::text = 'KILL_SWITCH'::text)
  ORDER BY ev.created_at DESC;
