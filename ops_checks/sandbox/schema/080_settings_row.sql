-- Migration 009 creates the single settings row (id = 1) with the column defaults.
INSERT INTO public.system_settings (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
